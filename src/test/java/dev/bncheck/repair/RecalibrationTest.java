package dev.bncheck.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.load.tensorflow.SavedModelSession;
import dev.bncheck.load.tensorflow.TfTestModels;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecalibrationTest {

  static final int SAMPLES = 48;

  @TempDir Path dir;

  static Map<String, Tensor> inputs() {
    return Map.of("", new Tensor.Float32(new int[] {SAMPLES, 6, 6, 3}, TfTestModels.inputBatch(SAMPLES, 9)));
  }

  /** Population mean and unbiased variance of the reference convolution's output, per channel. */
  static double[][] expectedStatistics() {
    double[] conv = dev.bncheck.load.tensorflow.TfTestReference.conv(TfTestModels.inputBatch(SAMPLES, 9), SAMPLES,
        TfTestModels.convKernel());
    int c = TfTestModels.CHANNELS;
    double[] mean = new double[c];
    double[] m2 = new double[c];
    long n = conv.length / c;
    for (int i = 0; i < conv.length; i++) {
      mean[i % c] += conv[i] / n;
    }
    for (int i = 0; i < conv.length; i++) {
      double d = conv[i] - mean[i % c];
      m2[i % c] += d * d;
    }
    double[] variance = new double[c];
    for (int k = 0; k < c; k++) {
      variance[k] = m2[k] / (n - 1);
    }
    return new double[][] {mean, variance};
  }

  @Test
  void newStatisticsAreThePopulationStatisticsOfTheDataAndOnlyTheyChange() {
    Path model = TfTestModels.functionSavedModel(dir.resolve("in"), TfTestModels.FunctionVariant.STATEFUL).path();
    Path out = dir.resolve("fixed");
    BnLayer original;
    try (SavedModelSession session = SavedModelSession.open(model, LoadOptions.DEFAULTS)) {
      original = session.model().layers().get(0);
      Recalibration.run(session, inputs(), name -> true, 16, false);
      OutputDirectory.write(out, false, session::saveTo);
    }
    double[][] expected = expectedStatistics();
    try (SavedModelSession fixed = SavedModelSession.open(out, LoadOptions.DEFAULTS)) {
      BnLayer layer = fixed.model().layers().get(0);
      for (int c = 0; c < TfTestModels.CHANNELS; c++) {
        assertThat(layer.movingMean()[c]).isCloseTo(expected[0][c], within(1e-5 * (1 + Math.abs(expected[0][c]))));
        assertThat(layer.movingVariance()[c]).isCloseTo(expected[1][c], within(1e-5 * expected[1][c]));
      }
      assertThat(layer.gamma()).containsExactly(original.gamma());
      assertThat(layer.beta()).containsExactly(original.beta());
    }
    assertThat(out.resolve("saved_model.pb")).hasSameBinaryContentAs(model.resolve("saved_model.pb"));
    assertThat(out.resolve("fingerprint.pb")).doesNotExist();
    assertThat(model.resolve("variables")).isDirectory();
  }

  /** Every variable of a loaded SavedModel, read in its session, by name. */
  static java.util.Map<String, float[]> variables(Path model) {
    java.util.Map<String, float[]> out = new java.util.TreeMap<>();
    try (var bundle = org.tensorflow.SavedModelBundle.load(model.toString(), "serve")) {
      var tf = org.tensorflow.op.Ops.create(bundle.graph());
      List<String> names = new java.util.ArrayList<>();
      var runner = bundle.session().runner();
      bundle.graph().operations().forEachRemaining(op -> {
        if (op.type().equals("VarHandleOp")) {
          names.add(op.name());
          runner.fetch(tf.readVariableOp(op.output(0),
              org.tensorflow.types.TFloat32.class));
        }
      });
      try (var result = runner.run()) {
        for (int i = 0; i < names.size(); i++) {
          var t = (org.tensorflow.types.TFloat32) result.get(i);
          float[] values = new float[(int) t.size()];
          t.asRawTensor().data().asFloats().read(values);
          out.put(names.get(i), values);
        }
      }
    }
    return out;
  }

  @Test
  void everyVariableButTheMovingStatisticsIsUnchanged() {
    Path model = TfTestModels.functionSavedModel(dir.resolve("in"), TfTestModels.FunctionVariant.NESTED).path();
    Path out = dir.resolve("fixed");
    try (SavedModelSession session = SavedModelSession.open(model, LoadOptions.DEFAULTS)) {
      Recalibration.run(session, inputs(), name -> true, 16, false);
      OutputDirectory.write(out, false, session::saveTo);
    }
    var before = variables(model);
    var after = variables(out);
    assertThat(after.keySet()).isEqualTo(before.keySet()).contains("conv2d/kernel", "bn/moving_mean");
    for (String name : before.keySet()) {
      if (name.startsWith("bn/moving_")) {
        assertThat(after.get(name)).as(name).isNotEqualTo(before.get(name));
      } else {
        assertThat(after.get(name)).as(name).containsExactly(before.get(name));
      }
    }
  }

  @Test
  void tf1ReferenceVariablesAreRecalibratedToo() {
    Path model = TfTestModels.tf1FusedSavedModel(dir.resolve("in"), TfTestModels.FusedVariant.NEVER_UPDATED).path();
    Path out = dir.resolve("fixed");
    try (SavedModelSession session = SavedModelSession.open(model, LoadOptions.DEFAULTS)) {
      Recalibration.run(session, inputs(), name -> true, 16, false);
      OutputDirectory.write(out, false, session::saveTo);
    }
    try (SavedModelSession fixed = SavedModelSession.open(out, LoadOptions.DEFAULTS)) {
      assertThat(fixed.model().layers().get(0).movingMean()[0]).isCloseTo(expectedStatistics()[0][0], within(1e-4));
    }
  }

  /**
   * Network order matters: bn2's inputs depend on bn1's statistics. Recalibrating bn1 first and
   * then capturing bn2 gives other statistics than one pass with bn1 still broken.
   */
  @Test
  void eachLayerSeesItsUpstreamLayersNewStatistics() throws IOException {
    Map<String, Tensor> data = ModelInputs.read(List.of("samples/keras-cnn-inputs.npy"));
    double[] onePass;
    try (SavedModelSession session = SavedModelSession.open(Path.of("samples/keras-cnn-untrained"), LoadOptions.DEFAULTS)) {
      CalibrationAccumulator all = new CalibrationAccumulator();
      session.capture(data, Set.of(0, 1), 32, all);
      onePass = all.layer(1).orElseThrow().population().mean();
      List<Recalibration.LayerChange> changes = Recalibration.run(session, data, name -> true, 32, false);
      double[] sequential = changes.get(1).newMean();
      double largest = 0;
      for (int c = 0; c < sequential.length; c++) {
        largest = Math.max(largest, Math.abs(sequential[c] - onePass[c]));
      }
      assertThat(largest).isGreaterThan(0.1);
      CalibrationAccumulator after = new CalibrationAccumulator();
      session.capture(data, Set.of(1), 32, after);
      assertThat(after.layer(1).orElseThrow().population().mean()).containsExactly(sequential);
    }
  }

  @Test
  void trainingModeGraphIsRefusedBecauseRecalibratingCannotHelp() {
    Path model = TfTestModels.tf1FusedSavedModel(dir.resolve("in"), TfTestModels.FusedVariant.IS_TRAINING).path();
    try (SavedModelSession session = SavedModelSession.open(model, LoadOptions.DEFAULTS)) {
      assertThatThrownBy(() -> Recalibration.run(session, inputs(), name -> true, 16, false))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("BN002").hasMessageContaining("Re-export the model in inference mode");
    }
  }

  @Test
  void replacingAnExistingOutputNeedsAskingAndLeavesNoTemporaryDirectory() throws IOException {
    Path out = Files.createDirectories(dir.resolve("out"));
    Files.writeString(out.resolve("old.txt"), "old");
    OutputDirectory.write(out, true, d -> {
      try {
        Files.writeString(d.resolve("new.txt"), "new");
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    assertThat(out.resolve("new.txt")).hasContent("new");
    assertThat(out.resolve("old.txt")).doesNotExist();
    try (var entries = Files.list(dir)) {
      assertThat(entries).containsExactly(out);
    }
  }
}
