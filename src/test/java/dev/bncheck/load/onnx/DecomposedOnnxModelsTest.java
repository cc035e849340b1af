package dev.bncheck.load.onnx;

import static dev.bncheck.load.onnx.AllClose.assertAllClose;
import static dev.bncheck.load.onnx.OnnxModelsTest.assertMomentsEqualPyTorchs;
import static dev.bncheck.load.onnx.OnnxModelsTest.doubles;
import static dev.bncheck.load.onnx.OnnxModelsTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.cli.CliRun;
import dev.bncheck.cli.ExitCodes;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.ChannelMoments;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelSession;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import dev.bncheck.repair.DataSplit;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * BN written out as elementwise operators (scripts/make_onnx_models.py): a PyTorch model whose
 * BN layers are written by hand in forward(), exported with constant folding off, against what
 * PyTorch computed (references.json); and the forms tf2onnx writes, against NumPy's and ONNX
 * Runtime's values (decomposed/references.json).
 */
class DecomposedOnnxModelsTest {

  private static final Path DIR = OnnxModelsTest.DIR;
  private static final Path TF_STYLE = DIR.resolve("decomposed");
  private static final String DATA = DIR.resolve("calibration.npy").toString();
  private static final String TF_DATA = TF_STYLE.resolve("calibration.npy").toString();
  private static JsonNode references;
  private static JsonNode unfolded;

  @TempDir Path dir;

  @BeforeAll
  static void readReferences() throws IOException {
    ObjectMapper json = new ObjectMapper();
    references = json.readTree(DIR.resolve("references.json").toFile()).get("models");
    unfolded = json.readTree(TF_STYLE.resolve("references.json").toFile()).get("unfolded");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"hand-bn-eval", "hand-bn-untrained", "hand-bn-eval-opset11"})
  void handWrittenBnIsALayerWithTheStateDictsStatistics(String model) {
    BnModel loaded = load(DIR.resolve(model + ".onnx"));
    JsonNode expected = references.get(referenceOf(model)).get("layers");
    assertThat(loaded.layers()).extracting(BnLayer::name).containsExactly("bn1", "bn2");
    assertThat(loaded.layers()).extracting(BnLayer::channels).containsExactly(8, 16);
    assertThat(loaded.unresolved()).isEmpty();
    for (BnLayer layer : loaded.layers()) {
      JsonNode reference = expected.get(layer.name());
      assertThat(layer.epsilon()).isEqualTo(reference.get("epsilon").asDouble());
      // the constants are [C, 1, 1]: the third axis from the end, axis 1 of NCHW
      assertThat(layer.channelAxis()).isEqualTo(-3);
      assertThat(layer.momentum()).isEmpty();
      assertThat(layer.hasGamma()).isTrue();
      assertThat(layer.hasBeta()).isTrue();
      assertThat(layer.graph().orElseThrow().op()).isEqualTo("Sub, Add, Sqrt, Div, Mul, Add");
      assertAllClose(model + " " + layer.name() + " running_mean", layer.movingMean(),
          doubles(reference.get("running_mean")), OnnxTolerances.STORED_VALUES, 0);
      assertAllClose(model + " " + layer.name() + " running_var", layer.movingVariance(),
          doubles(reference.get("running_var")), OnnxTolerances.STORED_VALUES, 0);
    }
  }

  /**
   * hand-bn-eval-opset11 is cnn-eval's model written out by hand at opset 11, where Unsqueeze
   * takes its axes as an attribute (the generator reads the weights back from cnn-eval.onnx):
   * cnn-eval's references.
   */
  private static String referenceOf(String model) {
    return model.equals("hand-bn-eval-opset11") ? "cnn-eval" : model;
  }

  /**
   * An outside tester's find: with the exporter's default constant folding, a hand-written BN
   * becomes Sub and Div by per-channel constants, and the model passed with "no
   * batch-normalization layers found". Its variance cannot be told from epsilon: each layer is
   * listed as not analysed, as a folded Mul and Add is (which changes no exit code).
   */
  @Test
  void handWrittenBnWithItsDeviationFoldedIsListedNotDropped() throws IOException {
    OnnxModelsTest.Run run = run("inspect", DIR.resolve("hand-bn-eval-folded.onnx").toString(), "--format", "json");
    assertThat(run.report().get("layers")).isEmpty();
    JsonNode unresolved = run.report().get("unresolved_layers");
    assertThat(unresolved).extracting(l -> l.get("name").asText()).containsExactly("bn1", "bn2");
    for (JsonNode layer : unresolved) {
      assertThat(layer.get("reason").asText()).contains("sqrt(var + epsilon) folded into one constant");
    }
    assertThat(run.exitCode()).isEqualTo(ExitCodes.PASS);
  }

  /**
   * BN written out in training mode (ReduceMean over the batch axis; the axes an attribute at
   * opset 13, an input at 18) was not found at all: inspect passed. Each layer is now listed in
   * training mode, BN002, with data as without; with data, check also measures that the outputs
   * depend on the batch (BN005), though no layer could be read.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(ints = {13, 18})
  void handWrittenBnInTrainingModeIsBn002(int opset) throws IOException {
    String model = DIR.resolve("hand-bn-batch-stats-opset" + opset + ".onnx").toString();
    OnnxModelsTest.Run inspect = run("inspect", model, "--format", "json");
    assertThat(findings(inspect.report())).containsExactly("BN002 error bn1", "BN002 error bn2");
    assertThat(inspect.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    OnnxModelsTest.Run check = run("check", model, "--inputs", DATA, "--format", "json");
    assertThat(check.err()).isEmpty();
    assertThat(findings(check.report())).contains("BN002 error bn1", "BN002 error bn2")
        .anyMatch(f -> f.startsWith("BN005 error"));
    assertThat(check.exitCode()).isEqualTo(ExitCodes.FINDINGS);
  }

  /** The untrained export reads the running statistics through Identity nodes of the weight and bias. */
  @Test
  void neverUpdatedHandWrittenBnGetsBn001OnEveryLayer() throws IOException {
    OnnxModelsTest.Run run = run("inspect", DIR.resolve("hand-bn-untrained.onnx").toString(), "--format", "json");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(findings(run.report())).containsExactly("BN001 error bn1", "BN001 error bn2");
  }

  /** The same verdict as the same model exported with BatchNormalization nodes (OnnxModelsTest). */
  @Test
  void checkWithDataGivesTheVerdictOfTheBatchNormalizationExport() throws IOException {
    OnnxModelsTest.Run healthy = run("check", DIR.resolve("hand-bn-eval.onnx").toString(), "--inputs", DATA,
        "--format", "json");
    assertThat(healthy.err()).isEmpty();
    assertThat(healthy.exitCode()).isEqualTo(ExitCodes.PASS);
    assertThat(findings(healthy.report())).isEmpty();
    OnnxModelsTest.Run untrained = run("check", DIR.resolve("hand-bn-untrained.onnx").toString(), "--inputs", DATA,
        "--format", "json");
    assertThat(untrained.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(findings(untrained.report())).containsExactly("BN001 error bn1", "BN004 info bn1",
        "BN001 error bn2", "BN004 error bn2");
  }

  /**
   * What reaches each layer, as the model runs and in the training view (bncheck replaces the
   * pattern's last node by training-mode operators), against PyTorch's forward hooks; and
   * ONNX Runtime's output of the pattern's last node against bncheck's (the self-check).
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"hand-bn-eval", "hand-bn-untrained", "hand-bn-eval-opset11"})
  void capturedMomentsEqualPyTorchsInBothViewsAndTheSelfCheckPasses(String model) throws IOException {
    OnnxModelsTest.Run run = run("check", DIR.resolve(model + ".onnx").toString(), "--inputs", DATA, "--format",
        "json", "--batch-order", "file", "--training-view", "always", "--fail-on", "never");
    JsonNode expected = references.get(referenceOf(model)).get("layers");
    assertThat(run.report().get("layers")).hasSize(2);
    for (JsonNode layer : run.report().get("layers")) {
      String name = layer.get("name").asText();
      assertMomentsEqualPyTorchs(model, layer, expected.get(name));
      assertThat(layer.get("calibration").get("self_check").get("passed").asBoolean()).as(name).isTrue();
    }
  }

  @Test
  void unfoldedTf2onnxPatternIsALayerOnTheLastAxisWithTheWrittenStatistics() {
    BnModel loaded = load(TF_STYLE.resolve("unfolded.onnx"));
    assertThat(loaded.layers()).hasSize(1);
    BnLayer layer = loaded.layers().get(0);
    assertThat(layer.name()).isEqualTo("bn");
    assertThat(layer.channels()).isEqualTo(3);
    assertThat(layer.channelAxis()).isEqualTo(-1);
    assertThat(layer.epsilon()).isEqualTo(unfolded.get("epsilon").asDouble());
    assertThat(layer.graph().orElseThrow().op()).isEqualTo("Sub, Add, Sqrt, Reciprocal, Mul, Mul, Add");
    assertAllClose("moving_mean", layer.movingMean(), doubles(unfolded.get("moving_mean")),
        OnnxTolerances.STORED_VALUES, 0);
    assertAllClose("moving_variance", layer.movingVariance(), doubles(unfolded.get("moving_variance")),
        OnnxTolerances.STORED_VALUES, 0);
    assertAllClose("gamma", layer.gamma(), doubles(unfolded.get("gamma")), OnnxTolerances.STORED_VALUES, 0);
    assertAllClose("beta", layer.beta(), doubles(unfolded.get("beta")), OnnxTolerances.STORED_VALUES, 0);
  }

  /** The stale channel 2 (1.5 of its standard deviations) fires BN003 with NumPy's numbers. */
  @Test
  void staleMeanOfTheUnfoldedPatternFiresBn003WithTheGeneratorsShift() throws IOException {
    OnnxModelsTest.Run run = run("check", TF_STYLE.resolve("unfolded.onnx").toString(), "--inputs", TF_DATA,
        "--format", "json", "--training-view", "always");
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(findings(run.report())).contains("BN003 error bn");
    JsonNode layer = run.report().get("layers").get(0);
    JsonNode perChannel = layer.get("metrics").get("per_channel");
    assertAllClose("population mean", doubles(perChannel.get("population_mean")),
        doubles(unfolded.get("population_mean")), OnnxTolerances.ACTIVATION_MOMENTS_ABSOLUTE,
        OnnxTolerances.ACTIVATION_MOMENTS_RELATIVE);
    assertAllClose("population variance", doubles(perChannel.get("population_variance")),
        doubles(unfolded.get("population_variance")), OnnxTolerances.ACTIVATION_MOMENTS_ABSOLUTE,
        OnnxTolerances.ACTIVATION_MOMENTS_RELATIVE);
    assertAllClose("standardized mean shift", doubles(perChannel.get("standardized_mean_shift")),
        doubles(unfolded.get("standardized_mean_shift")), OnnxTolerances.ACTIVATION_MOMENTS_ABSOLUTE,
        OnnxTolerances.ACTIVATION_MOMENTS_RELATIVE);
    // the input is the data itself: the training view on the last axis sees the same values
    assertAllClose("training view mean", doubles(layer.get("training_view_metrics").get("per_channel")
        .get("population_mean")), doubles(unfolded.get("population_mean")),
        OnnxTolerances.ACTIVATION_MOMENTS_ABSOLUTE, OnnxTolerances.ACTIVATION_MOMENTS_RELATIVE);
    JsonNode selfCheck = layer.get("calibration").get("self_check");
    assertThat(selfCheck.get("passed").asBoolean()).isTrue();
    // bncheck's output in double against ONNX Runtime's float32 differs as NumPy's did
    assertThat(selfCheck.get("max_abs_difference").asDouble())
        .isLessThanOrEqualTo(OnnxTolerances.PYTORCH_OUTPUT_ABSOLUTE);
    assertThat(unfolded.get("onnxruntime_vs_numpy_max_difference").asDouble())
        .isLessThanOrEqualTo(OnnxTolerances.PYTORCH_OUTPUT_ABSOLUTE);
  }

  @Test
  void foldedScaleAndOffsetIsReportedAsUnresolvedWithTheReason() throws IOException {
    OnnxModelsTest.Run run = run("inspect", TF_STYLE.resolve("folded.onnx").toString(), "--format", "json");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.PASS);
    assertThat(run.report().get("layers")).isEmpty();
    JsonNode unresolved = run.report().get("unresolved_layers");
    assertThat(unresolved).hasSize(1);
    assertThat(unresolved.get(0).get("name").asText()).isEqualTo("bn/batchnorm");
    assertThat(unresolved.get(0).get("node").asText()).isEqualTo("bn/batchnorm/mul_1 to bn/batchnorm/add_1");
    assertThat(unresolved.get(0).get("reason").asText()).contains("statistics folded in")
        .contains("cannot be recovered").contains("without constant folding");
  }

  /** A variance of shape [3, 1] against a mean of [3] broadcasts to something else than BN. */
  @Test
  void patternWhoseConstantsDoNotShareAChannelAxisIsNotBn() throws IOException {
    OnnxModelsTest.Run run = run("inspect", TF_STYLE.resolve("wrong-shape.onnx").toString(), "--format", "json");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.PASS);
    assertThat(run.report().get("layers")).isEmpty();
    assertThat(run.report().get("unresolved_layers")).isEmpty();
  }

  @Test
  void nanEpsilonIsRefusedAsInvalidInputNamingTheNode() {
    CliRun run = CliRun.of("inspect", TF_STYLE.resolve("nan-epsilon.onnx").toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).contains("node bn/batchnorm/add").contains("epsilon bn/epsilon").contains("NaN");
  }

  /**
   * The untrained export reads its statistics through Identity nodes of the weight and bias:
   * they get new initializers and the weight and bias stay as they are.
   */
  @Test
  void recalibrateWritesThePopulationStatisticsOfAHandWrittenBn() throws IOException {
    Path fixed = dir.resolve("fixed.onnx");
    CliRun run = CliRun.of("recalibrate", DIR.resolve("hand-bn-untrained.onnx").toString(), "--inputs", DATA,
        "--out", fixed.toString(), "--force");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.PASS);
    BnModel original = load(DIR.resolve("hand-bn-untrained.onnx"));
    Map<String, Tensor> calibration = DataSplit.of(ModelInputs.read(List.of(DATA)), 0.2).calibration();
    try (ModelSession session = new BnModelFromOnnx().open(fixed, LoadOptions.DEFAULTS)) {
      CalibrationAccumulator captured = new CalibrationAccumulator();
      session.capture(calibration, Set.of(0, 1), 16, captured);
      assertThat(session.model().layers()).hasSize(2);
      for (int k = 0; k < 2; k++) {
        BnLayer layer = session.model().layers().get(k);
        ChannelMoments population = captured.layer(k).orElseThrow().population();
        double[] variance = new double[layer.channels()];
        for (int c = 0; c < variance.length; c++) {
          variance[c] = population.unbiasedVariance(c);
        }
        assertAllClose(layer.name() + " mean", layer.movingMean(), population.mean(),
            OnnxTolerances.ACTIVATION_MOMENTS_ABSOLUTE, OnnxTolerances.ACTIVATION_MOMENTS_RELATIVE);
        assertAllClose(layer.name() + " variance", layer.movingVariance(), variance,
            OnnxTolerances.ACTIVATION_MOMENTS_ABSOLUTE, OnnxTolerances.ACTIVATION_MOMENTS_RELATIVE);
        assertThat(layer.gamma()).containsExactly(original.layers().get(k).gamma());
        assertThat(layer.beta()).containsExactly(original.layers().get(k).beta());
      }
    }
    CliRun check = CliRun.of("check", fixed.toString(), "--inputs", DATA);
    assertThat(check.exitCode()).as(check.out() + check.err()).isEqualTo(ExitCodes.PASS);
  }

  /** The unfolded pattern's statistics are initializers only it reads: replaced where they are. */
  @Test
  void recalibrateReplacesTheUnfoldedPatternsInitializersInPlace() throws IOException {
    Path fixed = dir.resolve("fixed.onnx");
    CliRun run = CliRun.of("recalibrate", TF_STYLE.resolve("unfolded.onnx").toString(), "--inputs", TF_DATA,
        "--out", fixed.toString(), "--force");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.PASS);
    BnModel after = load(fixed);
    assertThat(after.layers()).hasSize(1);
    BnLayer layer = after.layers().get(0);
    assertThat(layer.name()).isEqualTo("bn");
    assertThat(layer.gamma()).containsExactly(doubles(unfolded.get("gamma")));
    assertThat(layer.movingMean()).isNotEqualTo(doubles(unfolded.get("moving_mean")));
    byte[] written = java.nio.file.Files.readAllBytes(fixed);
    OnnxProto.Model proto = OnnxReader.readModel(fixed.toString(), written);
    assertThat(proto.graph().initializers()).extracting(OnnxProto.TensorProto::name)
        .containsExactly("bn/moving_mean", "bn/moving_variance", "bn/epsilon", "bn/gamma", "bn/beta");
  }

  @Test
  void recalibrateRefusesStatisticsThatReachOtherNodesToo() {
    Path fixed = dir.resolve("fixed.onnx");
    CliRun run = CliRun.of("recalibrate", TF_STYLE.resolve("shared-deviation.onnx").toString(), "--inputs", TF_DATA,
        "--out", fixed.toString(), "--force");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).contains("layer bn").contains("other nodes also read deviation");
    assertThat(fixed).doesNotExist();
  }

  private static BnModel load(Path model) {
    return new BnModelFromOnnx().load(model, CalibrationSink.NONE);
  }

  private static List<String> findings(JsonNode report) {
    List<String> out = new ArrayList<>();
    report.get("findings").forEach(f -> out.add(f.get("code").asText() + " " + f.get("severity").asText() + " "
        + f.get("layer").asText()));
    return out;
  }
}
