package dev.bncheck.load.onnx;

import static dev.bncheck.load.onnx.AllClose.assertAllClose;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.cli.ExitCodes;
import dev.bncheck.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real PyTorch exports (scripts/make_onnx_models.py): bncheck's verdicts, and its numbers
 * against what PyTorch computed on the same samples (references.json).
 */
class OnnxModelsTest {

  static final Path DIR = Path.of("src/test/resources/onnx");
  private static final String DATA = DIR.resolve("calibration.npy").toString();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static JsonNode references;

  @BeforeAll
  static void readReferences() throws IOException {
    references = JSON.readTree(DIR.resolve("references.json").toFile()).get("models");
  }

  /** The exit code and findings of a run, as {@code CODE severity layer} lines. */
  record Verdict(int exitCode, List<String> findings) {}

  static Stream<Arguments> verdicts() {
    return Stream.of(
        Arguments.of("check", "cnn-eval", new Verdict(ExitCodes.PASS, List.of())),
        Arguments.of("check", "cnn-eval-dynamo", new Verdict(ExitCodes.PASS, List.of())),
        Arguments.of("check", "cnn-external", new Verdict(ExitCodes.PASS, List.of())),
        Arguments.of("check", "cnn-train", new Verdict(ExitCodes.FINDINGS, List.of("BN002 error bn1",
            "BN002 error bn2", "BN005 error graph output logits"))),
        Arguments.of("check", "cnn-untrained", new Verdict(ExitCodes.FINDINGS, List.of("BN001 error bn1",
            "BN004 info bn1", "BN001 error bn2", "BN004 error bn2"))),
        Arguments.of("inspect", "cnn-eval", new Verdict(ExitCodes.PASS, List.of())),
        Arguments.of("inspect", "cnn-eval-dynamo", new Verdict(ExitCodes.PASS, List.of())),
        Arguments.of("inspect", "cnn-train", new Verdict(ExitCodes.FINDINGS, List.of("BN002 error bn1",
            "BN002 error bn2"))),
        Arguments.of("inspect", "cnn-untrained", new Verdict(ExitCodes.FINDINGS, List.of("BN001 error bn1",
            "BN001 error bn2"))));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("verdicts")
  void verdictOfEachExport(String command, String model, Verdict expected) throws IOException {
    List<String> args = new ArrayList<>(List.of(command, DIR.resolve(model + ".onnx").toString(), "--format", "json"));
    if (command.equals("check")) {
      args.addAll(List.of("--inputs", DATA));
    }
    Run run = run(args.toArray(String[]::new));
    assertThat(run.err()).isEmpty();
    List<String> findings = new ArrayList<>();
    run.report().get("findings").forEach(f -> findings.add(f.get("code").asText() + " " + f.get("severity").asText()
        + " " + f.get("layer").asText()));
    assertThat(new Verdict(run.exitCode(), findings)).isEqualTo(expected);
  }

  @Test
  void constantFoldingLeavesNoBnToCheck() throws IOException {
    Run run = run("inspect", DIR.resolve("cnn-eval-folded.onnx").toString(), "--format", "json", "--require-bn");
    assertThat(run.report().get("layers")).isEmpty();
    assertThat(run.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    // the text report says how to keep the BN nodes (an outside tester's dynamo export passed without a hint)
    StringWriter out = new StringWriter();
    Main.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "inspect",
        DIR.resolve("cnn-eval-folded.onnx").toString());
    assertThat(out.toString()).contains("No batch-normalization layers found. An ONNX exporter may have folded them"
        + " into the convolutions: torch.onnx.export with dynamo=False and do_constant_folding=False, or"
        + " dynamo=True and optimize=False, keeps them (docs/onnx.md).");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cnn-eval", "cnn-eval-dynamo", "cnn-external", "cnn-train", "cnn-untrained"})
  void layersHoldTheStateDictsValues(String model) throws IOException {
    JsonNode expected = references.get(model.equals("cnn-untrained") ? model : model.equals("cnn-train")
        ? "cnn-train" : "cnn-eval").get("layers");
    Run run = run("inspect", DIR.resolve(model + ".onnx").toString(), "--format", "json", "--fail-on", "never");
    JsonNode layers = run.report().get("layers");
    assertThat(layers).hasSize(2);
    for (JsonNode layer : layers) {
      String name = layer.get("name").asText();
      JsonNode reference = expected.get(name);
      assertThat(reference).as("layer %s", name).isNotNull();
      assertThat(layer.get("epsilon").asDouble()).isEqualTo(reference.get("epsilon").asDouble());
      assertThat(layer.get("momentum").asDouble()).isEqualTo(reference.get("momentum").asDouble());
      assertThat(layer.get("momentum_convention").asText()).isEqualTo("pytorch");
      assertThat(layer.get("graph").get("training_mode").asBoolean()).isEqualTo(model.equals("cnn-train"));
    }
  }

  /** The running statistics as the loader read them, through a sink-free load. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cnn-eval", "cnn-external", "cnn-untrained"})
  void runningStatisticsEqualPyTorchsExactly(String model) {
    var loaded = new BnModelFromOnnx().load(DIR.resolve(model + ".onnx"), dev.bncheck.model.CalibrationSink.NONE);
    JsonNode expected = references.get(model.equals("cnn-untrained") ? model : "cnn-eval").get("layers");
    for (var layer : loaded.layers()) {
      assertAllClose(model + " " + layer.name() + " running_mean", layer.movingMean(),
          doubles(expected.get(layer.name()).get("running_mean")), OnnxTolerances.STORED_VALUES, 0);
      assertAllClose(model + " " + layer.name() + " running_var", layer.movingVariance(),
          doubles(expected.get(layer.name()).get("running_var")), OnnxTolerances.STORED_VALUES, 0);
    }
  }

  /**
   * What reaches each layer in the model as exported (eval: moving statistics; train: batch
   * statistics, per batch of 32 in the file's order) and in the training view (every BN layer in
   * training mode, computed by bncheck's rewrite of the inference-mode nodes), per channel, against
   * PyTorch's forward hooks on the same batches.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cnn-eval", "cnn-train", "cnn-untrained"})
  void capturedMomentsEqualPyTorchsInBothViews(String model) throws IOException {
    Run run = run("check", DIR.resolve(model + ".onnx").toString(), "--inputs", DATA, "--format", "json",
        "--batch-order", "file", "--training-view", "always", "--fail-on", "never");
    JsonNode expected = references.get(model).get("layers");
    for (JsonNode layer : run.report().get("layers")) {
      String name = layer.get("name").asText();
      assertMomentsEqualPyTorchs(model, layer, expected.get(name));
      JsonNode selfCheck = layer.get("calibration").get("self_check");
      assertThat(selfCheck.get("passed").asBoolean()).as(name + " self-check").isTrue();
      assertThat(selfCheck.get("mode").asText()).isEqualTo(model.equals("cnn-train") ? "training" : "inference");
    }
    assertThat(run.report().get("layers").get(1).get("metrics").get("per_channel").get("population_mean").size())
        .isEqualTo(16);
  }

  /**
   * The same on the ResNet-18-shaped export: 20 layers, three on residual shortcuts, whose inputs
   * are sums of two branches.
   */
  @Test
  void residualNetworksMomentsEqualPyTorchsInBothViews() throws IOException {
    Path dir = DIR.resolve("mistakes");
    Run run = run("check", dir.resolve("resnet-eval.onnx").toString(), "--inputs",
        dir.resolve("calibration.npy").toString(), "--format", "json", "--batch-order", "file", "--training-view",
        "always", "--fail-on", "never");
    JsonNode expected = JSON.readTree(dir.resolve("references.json").toFile()).get("models").get("resnet-eval")
        .get("layers");
    assertThat(run.report().get("layers")).hasSize(20);
    assertThat(expected.size()).isEqualTo(20);
    for (JsonNode layer : run.report().get("layers")) {
      String name = layer.get("name").asText();
      assertMomentsEqualPyTorchs("resnet-eval", layer, expected.get(name));
      assertThat(layer.get("calibration").get("self_check").get("passed").asBoolean()).as(name + " self-check").isTrue();
    }
  }

  /**
   * A model exported for batches of 8 runs 8 samples at a time, whatever --batch-size asks, and
   * leaves out what does not fill a batch: the report says both (an outside tester's fixed-batch
   * model ran 64 of 70 samples, the report giving batches "of up to 32" and no word of the rest).
   */
  @Test
  void aFixedBatchIsReportedWithTheSamplesLeftOut() throws IOException {
    Run run = run("check", DIR.resolve("graphs/batch-fixed.onnx").toString(), "--inputs",
        DIR.resolve("graphs/batch-mixing.npy").toString(), "--max-samples", "20", "--format", "json",
        "--fail-on", "never");
    JsonNode data = run.report().get("data");
    assertThat(data.get("samples").asLong()).isEqualTo(16);
    assertThat(data.get("batches").asText()).isEqualTo("of 8 samples, the batch the model fixes (4 of the data's"
        + " samples left out: it takes whole batches only), drawn in a fixed shuffled order (--batch-order)");
    assertThat(run.report().get("layers").get(0).get("calibration").get("first_batch_shape").toString())
        .isEqualTo("[8,3,8,8]");

    Run whole = run("check", DIR.resolve("graphs/batch-fixed.onnx").toString(), "--inputs",
        DIR.resolve("graphs/batch-mixing.npy").toString(), "--format", "json", "--fail-on", "never");
    assertThat(whole.report().get("data").get("batches").asText()).startsWith("of 8 samples, the batch the model"
        + " fixes, drawn");
  }

  /**
   * An id input takes ids of any size its type holds, read from an int64 .npy exactly: 2^25 + 1,
   * which float32 cannot hold, was refused (read through float32); a value beyond int32 is refused
   * in one line naming the input.
   */
  @Test
  void integerInputsTakeEveryValueTheirTypeHolds(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
    String model = DIR.resolve("graphs/int-input.onnx").toString();
    Path x = Files.write(dir.resolve("x.npy"), dev.bncheck.TestFiles.randomNpy(16, 3));
    long[] ids = new long[16];
    java.util.Arrays.fill(ids, (1L << 25) + 1);
    Path fits = Files.write(dir.resolve("ids.npy"), dev.bncheck.TestFiles.npy(ids, 16));
    Run run = run("check", model, "--inputs", "x=" + x, "--inputs", "ids=" + fits, "--format", "json",
        "--fail-on", "never");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.report().get("layers").get(0).get("calibration").get("samples").asLong()).isEqualTo(16);
    ids[3] = 1L << 31;
    Path beyond = Files.write(dir.resolve("beyond.npy"), dev.bncheck.TestFiles.npy(ids, 16));
    Run refused = run("check", model, "--inputs", "x=" + x, "--inputs", "ids=" + beyond);
    assertThat(refused.exitCode()).isEqualTo(3);
    assertThat(refused.err().strip()).isEqualTo("bncheck: error: --inputs: ids: the model takes int32, but the data"
        + " holds 2147483648, outside -2147483648..2147483647");
  }

  /**
   * A BN input that is also a model output is fetched with every batch: BN005 compares the first
   * batch's, not the last's (100 samples: a last batch of 4), with the first samples run alone.
   * An outside tester's healthy PyTorch model returning its conv output beside the BN's got a
   * BN005 error.
   */
  @Test
  void aBnInputThatIsAlsoAModelOutputIsComparedOnTheFirstBatch(@org.junit.jupiter.api.io.TempDir Path dir)
      throws IOException {
    Path x = Files.write(dir.resolve("x.npy"), dev.bncheck.TestFiles.randomNpy(100, 3));
    Run run = run("check", DIR.resolve("graphs/bn-input-as-output.onnx").toString(), "--inputs", x.toString(),
        "--format", "json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.report().get("findings")).isEmpty();
    assertThat(run.report().get("batch_size_checks")).isNotEmpty();
    for (JsonNode check : run.report().get("batch_size_checks")) {
      assertThat(check.get("batch_size").asInt()).as(check.toString()).isEqualTo(32);
      assertThat(check.get("consistent").asBoolean()).as(check.toString()).isTrue();
    }
  }

  /**
   * A layer's per-channel moments of the report, as exported and in the training view, equal the
   * ones PyTorch computed on the same batches ({@code references.json}).
   */
  static void assertMomentsEqualPyTorchs(String model, JsonNode layer, JsonNode expected) {
    String name = layer.get("name").asText();
    for (String[] view : new String[][] {{"metrics", "as_exported"}, {"training_view_metrics", "training_view"}}) {
      JsonNode ours = layer.get(view[0]).get("per_channel");
      JsonNode theirs = expected.get(view[1]);
      assertAllClose(model + " " + name + " " + view[1] + " mean", doubles(ours.get("population_mean")),
          doubles(theirs.get("mean")), OnnxTolerances.ACTIVATION_MOMENTS_ABSOLUTE,
          OnnxTolerances.ACTIVATION_MOMENTS_RELATIVE);
      assertAllClose(model + " " + name + " " + view[1] + " variance", doubles(ours.get("population_variance")),
          doubles(theirs.get("variance")), OnnxTolerances.ACTIVATION_MOMENTS_ABSOLUTE,
          OnnxTolerances.ACTIVATION_MOMENTS_RELATIVE);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cnn-eval", "cnn-train"})
  void batchDependenceEqualsPyTorchs(String model) throws IOException {
    Run run = run("check", DIR.resolve(model + ".onnx").toString(), "--inputs", DATA, "--format", "json",
        "--batch-order", "file", "--fail-on", "never");
    JsonNode check = run.report().get("batch_size_checks").get(0);
    assertThat(check.get("output").asText()).isEqualTo("logits");
    assertThat(check.get("batch_size").asInt()).isEqualTo(32);
    assertThat(check.get("samples_compared").asInt()).isEqualTo(OnnxCalibration.SINGLE_SAMPLES);
    double expected = references.get(model).get("batch_dependence").asDouble();
    assertThat(check.get("max_abs_difference").asDouble()).isCloseTo(expected,
        org.assertj.core.data.Offset.offset(OnnxTolerances.BATCH_DEPENDENCE_ABSOLUTE));
    assertThat(expected).as("PyTorch's own").isGreaterThan(model.equals("cnn-train") ? 1 : -1);
  }

  @Test
  void aPartialLastBatchStillCounts() throws IOException {
    Run run = run("check", DIR.resolve("cnn-eval.onnx").toString(), "--inputs", DATA, "--format", "json",
        "--max-samples", "40");
    for (JsonNode layer : run.report().get("layers")) {
      JsonNode calibration = layer.get("calibration");
      assertThat(calibration.get("batches").asInt()).isEqualTo(2);
      // 40 samples of 8 x 8 values per channel
      assertThat(calibration.get("values_per_channel").asLong()).isEqualTo(40 * 64);
    }
  }

  static double[] doubles(JsonNode array) {
    double[] out = new double[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asDouble();
    }
    return out;
  }

  /** A run's exit code, its JSON report (null when there is none) and its standard error. */
  record Run(int exitCode, JsonNode report, String err) {}

  static Run run(String... args) throws IOException {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(code, out.toString().isEmpty() ? null : JSON.readTree(out.toString()), err.toString());
  }
}
