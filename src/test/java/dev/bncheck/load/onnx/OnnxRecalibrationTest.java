package dev.bncheck.load.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.cli.CliRun;
import dev.bncheck.cli.ExitCodes;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.ChannelMoments;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelSession;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.Tensor;
import dev.bncheck.repair.DataSplit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * recalibrate on ONNX models: the fixed file's statistics are the population statistics of what
 * ONNX Runtime feeds each layer of the fixed model, everything else is as it was, and the file
 * stands alone.
 */
class OnnxRecalibrationTest {

  private static final Path DIR = Path.of("src/test/resources/onnx");
  private static final String DATA = DIR.resolve("calibration.npy").toString();

  @TempDir Path dir;

  /**
   * The untrained export reads its running variance through an Identity of the weight (the
   * TorchScript exporter stores equal tensors once): the weight must stay as it is.
   */
  @Test
  void untrainedModelGetsThePopulationStatisticsOfWhatReachesEachLayerInTheFixedModel() throws IOException {
    Path fixed = dir.resolve("fixed.onnx");
    CliRun run = CliRun.of("recalibrate", DIR.resolve("cnn-untrained.onnx").toString(), "--inputs", DATA, "--out",
        fixed.toString(), "--force");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.PASS);
    assertThat(run.out()).contains("Recalibrated 2 of 2 BN layers").contains("Wrote " + fixed);

    BnModel original = inspect(DIR.resolve("cnn-untrained.onnx"));
    Map<String, Tensor> calibration = DataSplit.of(ModelInputs.read(List.of(DATA)), 0.2).calibration();
    try (ModelSession session = new BnModelFromOnnx().open(fixed, LoadOptions.DEFAULTS)) {
      CalibrationAccumulator captured = new CalibrationAccumulator();
      session.capture(calibration, Set.of(0, 1), 16, captured);
      for (int k = 0; k < 2; k++) {
        BnLayer layer = session.model().layers().get(k);
        ChannelMoments population = captured.layer(k).orElseThrow().population();
        for (int c = 0; c < layer.channels(); c++) {
          assertClose(layer.movingMean()[c], population.mean()[c]);
          assertClose(layer.movingVariance()[c], population.unbiasedVariance(c));
        }
        assertThat(layer.gamma()).containsExactly(original.layers().get(k).gamma());
        assertThat(layer.beta()).containsExactly(original.layers().get(k).beta());
      }
    }
    // BN001 gone, and ONNX Runtime's BN outputs on the fixed model agree with bncheck's from the
    // written statistics (the self-check; exit code 4 if not)
    CliRun check = CliRun.of("check", fixed.toString(), "--inputs", DATA);
    assertThat(check.exitCode()).as(check.out() + check.err()).isEqualTo(ExitCodes.PASS);
  }

  @Test
  void modelWithExternalDataIsWrittenAsOneFileThatStandsAlone() throws IOException {
    Path fixed = dir.resolve("alone").resolve("fixed.onnx");
    Files.createDirectories(fixed.getParent());
    CliRun run = CliRun.of("recalibrate", DIR.resolve("cnn-external.onnx").toString(), "--inputs", DATA, "--out",
        fixed.toString(), "--force");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.PASS);
    try (var files = Files.list(fixed.getParent())) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("fixed.onnx");
    }
    BnModel before = inspect(DIR.resolve("cnn-external.onnx"));
    BnModel after = inspect(fixed);
    assertThat(after.layers()).hasSize(2);
    assertThat(after.layers().get(0).gamma()).containsExactly(before.layers().get(0).gamma());
    assertThat(after.layers().get(0).movingMean()).isNotEqualTo(before.layers().get(0).movingMean());
  }

  @Test
  void trainingModeLayersAreRefusedAndNothingIsWritten() {
    Path fixed = dir.resolve("fixed.onnx");
    CliRun run = CliRun.of("recalibrate", DIR.resolve("cnn-train.onnx").toString(), "--inputs", DATA, "--out",
        fixed.toString(), "--force");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).contains("BN002");
    assertThat(fixed).doesNotExist();
  }

  /**
   * An outside tester's find: a training-mode export whose moving statistics were right was refused
   * as "nothing to fix" with --to-inference-mode, while the switch is the fix; those layers' old
   * statistics were never used, so their closeness to the data is no measure of it.
   */
  @Test
  void switchingToInferenceModeIsAFixWithoutForce() {
    Path fixed = dir.resolve("fixed.onnx");
    CliRun run = CliRun.of("recalibrate", DIR.resolve("cnn-train.onnx").toString(), "--inputs", DATA, "--out",
        fixed.toString(), "--to-inference-mode");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.PASS);
    assertThat(run.err()).doesNotContain("refused");
    assertThat(inspect(fixed).layers()).allMatch(l -> !l.graph().orElseThrow().trainingMode());
  }

  @Test
  void trainingModeLayersAreSwitchedToInferenceModeWhenAskedAndTheRunSaysSo() {
    Path fixed = dir.resolve("fixed.onnx");
    CliRun run = CliRun.of("recalibrate", DIR.resolve("cnn-train.onnx").toString(), "--inputs", DATA, "--out",
        fixed.toString(), "--force", "--to-inference-mode");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.PASS);
    assertThat(run.out()).contains("Layer bn1 normalized with batch statistics (BN002); it is switched to inference"
        + " mode").contains("Layer bn2 normalized")
        // an outside tester's find: it said "only the moving statistics changed"
        .contains("(the moving statistics changed and the layers above switched to inference mode;");
    assertThat(inspect(fixed).layers()).allMatch(l -> !l.graph().orElseThrow().trainingMode());
    // no BN002 (an error) left, and the self-check of the switched nodes passes
    CliRun check = CliRun.of("check", fixed.toString(), "--inputs", DATA);
    assertThat(check.exitCode()).as(check.out() + check.err()).isEqualTo(ExitCodes.PASS);
  }

  private static BnModel inspect(Path model) {
    return new BnModelFromOnnx().load(model, dev.bncheck.model.CalibrationSink.NONE);
  }

  /** Statistics written as float32 against the same in double. */
  private static void assertClose(double written, double expected) {
    assertThat(Math.abs(written - expected)).as("written %s, expected %s", written, expected)
        .isLessThanOrEqualTo(OnnxTolerances.ACTIVATION_MOMENTS_ABSOLUTE
            + OnnxTolerances.ACTIVATION_MOMENTS_RELATIVE * Math.abs(expected));
  }
}
