package dev.bncheck.load.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The copy ONNX Runtime runs when only outputs are added: the graph's bytes copied as they are. */
class RunnableModelTest {

  /**
   * Copying the graph's bytes at once and appending the outputs gives the bytes of the rewrite
   * field by field, on PyTorch exports of both exporters and hand-made graphs; the copy reads
   * back as the model with the outputs added.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cnn-eval.onnx", "cnn-eval-dynamo.onnx", "cnn-train.onnx", "hand-bn-eval-opset11.onnx",
      "graphs/momentum-none.onnx", "graphs/shared-statistics.onnx"})
  void copyingTheGraphAtOnceGivesTheRewritesBytes(String name) throws IOException {
    Path path = OnnxModelsTest.DIR.resolve(name);
    byte[] bytes = Files.readAllBytes(path);
    OnnxProto.Model model = OnnxReader.readModel(path.toString(), bytes);
    ExternalData external = new ExternalData(path);
    List<String> outputs = OrtRunner.distinct(OnnxBnLayers.find(path.toString(), model, external).nodes().stream()
        .flatMap(bn -> List.of(bn.node().inputs().get(0), bn.node().outputs().get(0)).stream()).toList());
    assertThat(outputs).isNotEmpty();

    byte[] copied = RunnableModel.build(path.toString(), bytes, model, external, outputs, RunnableModel.Edit.NONE, true);
    byte[] rewritten = RunnableModel.build(path.toString(), bytes, model, external, outputs, RunnableModel.Edit.NONE,
        false);

    assertThat(copied).isEqualTo(rewritten);
    assertThat(copied.length).isGreaterThan(bytes.length);
    OnnxProto.Model read = OnnxReader.readModel(name, copied);
    assertThat(read.graph().outputs().stream().map(OnnxProto.ValueInfo::name).toList()).containsAll(outputs);
    assertThat(read.graph().nodes()).hasSameSizeAs(model.graph().nodes());
  }
}
