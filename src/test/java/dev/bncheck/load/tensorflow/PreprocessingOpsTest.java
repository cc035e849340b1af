package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/**
 * A Keras 3 model with augmentation layers kept in it, bicubic, area and Lanczos resizing and
 * exact GELU (fixture from scripts/make_keras_preprocessing_bn.py): pure computation that the op
 * check once refused, found by a red-team run. It runs without --trust-model.
 */
class PreprocessingOpsTest {

  private static final Path DIR = Path.of("src/test/resources/keras-preprocessing-bn");

  private static Set<String> opsOf(String model) throws IOException {
    MetaGraphDef meta = SavedModel.parseFrom(Files.readAllBytes(DIR.resolve(model).resolve("saved_model.pb")))
        .getMetaGraphs(0);
    Set<String> ops = new HashSet<>();
    for (FunctionDef f : meta.getGraphDef().getLibrary().getFunctionList()) {
      f.getNodeDefList().stream().map(NodeDef::getOp).forEach(ops::add);
    }
    return ops;
  }

  /** Causal attention, one_hot of argmax, a transposed 3-D convolution (red-team finds, round 2). */
  @ParameterizedTest(name = "{arguments}")
  @CsvSource({"attention, 'MatrixBandPart,BitwiseAnd'", "conv3d, Conv3DBackpropInputV2"})
  void layerOpsRunWithoutTrustingTheModel(String model, String covered) throws IOException {
    assertThat(opsOf(model)).as("the fixture still holds the ops it covers").contains(covered.split(","));
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "check",
        DIR.resolve(model).toString(), "--synthetic", "4");
    assertThat(code).as(err.toString()).isIn(0, 1);
    assertThat(err.toString()).doesNotContain("refused");
  }

  @Test
  void preprocessingAndActivationOpsRunWithoutTrustingTheModel() throws IOException {
    Set<String> ops = opsOf("model");
    assertThat(ops).as("the fixture still holds the ops it covers").contains("Erfc", "StatelessRandomGetKeyCounter",
        "StatelessRandomUniformV2", "ImageProjectiveTransformV3", "ResizeBicubic", "ResizeArea", "ScaleAndTranslate");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "check", DIR.resolve("model").toString(),
        "--inputs", DIR.resolve("data.npy").toString(), "--format", "json");
    assertThat(code).as(err.toString()).isIn(0, 1);
    assertThat(err.toString()).doesNotContain("refused");
    assertThat(out.toString()).contains("\"calibration\": {");
  }
}
