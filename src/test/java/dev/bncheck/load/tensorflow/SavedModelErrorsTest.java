package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.Loaders;
import dev.bncheck.model.CalibrationSink;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken or mismatched SavedModels and frozen graphs: one-line input errors naming what is wrong. */
class SavedModelErrorsTest {

  @TempDir Path dir;

  static void load(Path model, LoadOptions options) {
    Loaders.forModel(model).load(model, options, new CalibrationAccumulator());
  }

  Path trained() {
    return TfTestModels.functionSavedModel(dir.resolve("model"), TfTestModels.FunctionVariant.STATEFUL).path();
  }

  @Test
  void directoryWithoutSavedModelPb() throws IOException {
    Path empty = Files.createDirectories(dir.resolve("empty/variables"));
    assertThatThrownBy(() -> load(empty.getParent(), LoadOptions.DEFAULTS))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(empty.getParent() + ": not a SavedModel: no saved_model.pb");
  }

  @Test
  void truncatedOrRandomSavedModelPb() throws IOException {
    Path model = trained();
    Path pb = model.resolve("saved_model.pb");
    byte[] bytes = Files.readAllBytes(pb);
    Files.write(pb, java.util.Arrays.copyOf(bytes, bytes.length / 3));
    assertThatThrownBy(() -> load(model, LoadOptions.DEFAULTS))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(pb + ": not a valid SavedModel (corrupt or truncated)");
    Files.write(pb, "this is not a protobuf at all".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> load(model, LoadOptions.DEFAULTS)).isInstanceOf(InvalidInputException.class);
  }

  @Test
  void truncatedCheckpoint() throws IOException {
    Path model = trained();
    Path data;
    try (Stream<Path> files = Files.list(model.resolve("variables"))) {
      data = files.filter(p -> p.getFileName().toString().startsWith("variables.data")).findFirst().orElseThrow();
    }
    Files.write(data, new byte[8]);
    assertThatThrownBy(() -> load(model, LoadOptions.DEFAULTS))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(model + ": TensorFlow cannot load it (missing or corrupt variables?)");
  }

  @Test
  void missingCheckpointIsAnInputErrorNamingTheVariables() throws IOException {
    Path model = trained();
    try (Stream<Path> files = Files.list(model.resolve("variables"))) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    assertThatThrownBy(() -> load(model, LoadOptions.DEFAULTS))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(model.toString());
  }

  @Test
  void checkpointOfAnotherShapeThanTheGraphIsAnInputError() throws IOException {
    Path model = TfTestModels.tf1FusedSavedModel(dir.resolve("shape"), TfTestModels.FusedVariant.TRAINED).path();
    HostileModelsTest.edit(model, meta -> {
      for (var node : meta.getGraphDefBuilder().getNodeBuilderList()) {
        if (node.getName().equals("bn/gamma") && node.getOp().equals("VariableV2")) {
          node.putAttr("shape", org.tensorflow.proto.AttrValue.newBuilder().setShape(
              org.tensorflow.proto.TensorShapeProto.newBuilder().addDim(
                  org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(5))).build());
        }
      }
      return meta;
    });
    assertThatThrownBy(() -> load(model, LoadOptions.DEFAULTS)).isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(model.toString());
  }

  @Test
  void unknownTagSetListsTheAvailableOnes() {
    Path model = trained();
    assertThatThrownBy(() -> load(model, new LoadOptions("serve,gpu", "serving_default", List.of(), 32, 10)))
        .hasMessage(model.resolve("saved_model.pb") + ": --tag-set serve,gpu: no such meta graph; available tag sets: serve");
  }

  @Test
  void unknownSignatureListsTheAvailableOnes() {
    Path model = trained();
    assertThatThrownBy(() -> load(model, new LoadOptions("serve", "predict", List.of(), 32, 10)))
        .hasMessage(model.resolve("saved_model.pb") + ": --signature predict: no such signature; available: serving_default");
  }

  @Test
  void corruptFrozenGraph() throws IOException {
    Path pb = Files.write(dir.resolve("model.pb"), new byte[] {0x0a, (byte) 0xff, (byte) 0xff, 0x01});
    assertThatThrownBy(() -> load(pb, LoadOptions.DEFAULTS))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(pb + ": not a valid GraphDef (corrupt or truncated)");
  }

  @Test
  void syntheticSamplesExerciseTheGraphWhenNoDataIsAtHand() {
    Path model = trained();
    CalibrationAccumulator data = new CalibrationAccumulator();
    Loaders.forModel(model).load(model, new LoadOptions("serve", "serving_default", List.of(), 16, 1000, 40), data);
    assertThat(data.layer(0).orElseThrow().batches()).hasSize(3);
    assertThat(data.layer(0).orElseThrow().selfCheck().orElseThrow().passed()).isTrue();
    assertThat(data.batchSizeChecks()).allMatch(c -> c.consistent());
  }

  @Test
  void inspectNeverNeedsData() {
    Path model = trained();
    assertThat(Loaders.forModel(model).load(model, LoadOptions.DEFAULTS, CalibrationSink.NONE).layers()).hasSize(1);
  }
}
