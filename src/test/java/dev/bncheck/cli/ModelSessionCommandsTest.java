package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.TestFiles;
import dev.bncheck.load.ModelSession.View;
import dev.bncheck.model.Tensor;
import dev.bncheck.repair.DataSplit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * check and recalibrate driven end to end through the model session interface alone, on a model
 * computed in Java ({@link FakeSession}): the findings, the exit codes, when the training view
 * runs, and the statistics recalibrate writes.
 */
class ModelSessionCommandsTest {

  private static final int SAMPLES = 400;
  private static final int CHANNELS = 3;
  private static final double[][] AFFINE = {{2, 1}, {3, -2}};

  @TempDir Path dir;

  private final FakeLoader loader = new FakeLoader();
  private float[] x;
  private Path inputs;

  @BeforeEach
  void data() throws IOException {
    SplittableRandom random = new SplittableRandom(7);
    x = new float[SAMPLES * CHANNELS];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextGaussian() * (1 + i % CHANNELS));
    }
    inputs = dir.resolve("x.npy");
    Files.write(inputs, TestFiles.npy(x, SAMPLES, CHANNELS));
  }

  @Test
  void healthyModelPassesWithoutTheTrainingViewUnlessAskedFor() throws IOException {
    Path model = model("healthy", statisticsOf(x, SAMPLES), 0);
    CliRun run = check(model);
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(codes(run)).isEmpty();
    assertThat(passes()).containsExactly(View.INFERENCE);
    assertThat(layersWithTrainingView(run)).isZero();

    CliRun always = check(model, "--training-view", "always");
    assertThat(always.exitCode()).as(always.err()).isZero();
    assertThat(passes()).containsExactly(View.INFERENCE, View.TRAINING);
    assertThat(layersWithTrainingView(always)).isEqualTo(2);

    check(model, "--training-view", "never");
    assertThat(passes()).containsExactly(View.INFERENCE);
    assertThat(loader.opened).allMatch(s -> s.closed);
  }

  @Test
  void theReportNamesTheRuntimeTheSelfCheckComparedWith() {
    CheckCommand command = new CheckCommand();
    command.loaders = path -> loader;
    CliRun run = CliRun.with(command, "check", model("healthy", statisticsOf(x, SAMPLES), 0).toString(), "--inputs",
        inputs.toString());
    assertThat(run.out()).contains("matches the fake model's runtime's inference-mode output").doesNotContain("TensorFlow");
  }

  @Test
  void staleStatisticsFailTheCheckAfterATrainingViewPass() throws IOException {
    Path model = model("stale", statisticsOf(x, SAMPLES), 3);
    CliRun run = check(model);
    assertThat(run.exitCode()).as(run.out()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(codes(run)).contains("BN003").doesNotContain("BN001");
    assertThat(passes()).containsExactly(View.INFERENCE, View.TRAINING);
    assertThat(layersWithTrainingView(run)).isEqualTo(2);
  }

  /**
   * The training view runs on the first 256 samples by default: at 64 an outside tester's model fed
   * BGR images passed on 1024 samples, its deeper layer judged on 64 of them.
   */
  @Test
  void theTrainingViewJudgesTheFirst256SamplesByDefault() throws IOException {
    CliRun run = check(model("stale", statisticsOf(x, SAMPLES), 3));
    JsonNode stale = null;
    for (JsonNode f : new ObjectMapper().readTree(run.out()).get("findings")) {
      if (f.get("code").asText().equals("BN003") && f.at("/evidence/view").asText().equals("training")) {
        stale = f;
      }
    }
    assertThat(stale).as(run.out()).isNotNull();
    assertThat(stale.at("/evidence/samples").asInt()).isEqualTo(256);
  }

  @Test
  void statisticsNeverUpdatedNeedNoTrainingView() throws IOException {
    double[][][] initial = new double[2][2][];
    for (double[][] layer : initial) {
      layer[0] = new double[CHANNELS];
      layer[1] = new double[] {1, 1, 1};
    }
    CliRun run = check(model("untrained", initial, 0));
    assertThat(run.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(codes(run)).contains("BN001").doesNotContain("BN003");
    assertThat(passes()).containsExactly(View.INFERENCE);
  }

  @Test
  void recalibrateWritesThePopulationStatisticsOfEachLayerInNetworkOrder() throws IOException {
    Path model = model("stale", statisticsOf(x, SAMPLES), 3);
    Path out = dir.resolve("fixed");
    CliRun run = CliRun.with(recalibrate(), "recalibrate", model.toString(), "--inputs", inputs.toString(), "--out",
        out.toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("Recalibrated 2 of 2 BN layers").contains("Wrote " + out);

    float[] calibration = ((Tensor.Float32) DataSplit.of(Map.of("", new Tensor.Float32(new int[] {SAMPLES, CHANNELS},
        x)), 0.2).calibration().get("")).data();
    double[][][] expected = statisticsOf(calibration, calibration.length / CHANNELS);
    List<FakeSession.Layer> written = FakeSession.read(out);
    for (int k = 0; k < 2; k++) {
      for (int c = 0; c < CHANNELS; c++) {
        assertThat(written.get(k).mean()[c]).isCloseTo(expected[k][0][c], within(1e-4 * (1 + Math.abs(expected[k][0][c]))));
        assertThat(written.get(k).variance()[c]).isCloseTo(expected[k][1][c], within(1e-4 * expected[k][1][c]));
      }
    }
    assertThat(loader.opened).hasSize(2).allMatch(s -> s.closed);
  }

  @Test
  void recalibrateRefusesToReplaceStatisticsThatAlreadyDescribeTheData() throws IOException {
    Path out = dir.resolve("fixed");
    CliRun run = CliRun.with(recalibrate(), "recalibrate", model("healthy", statisticsOf(x, SAMPLES), 0).toString(),
        "--inputs", inputs.toString(), "--out", out.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(run.err()).contains("recalibrate refused: the model's statistics already describe the held-out samples");
    assertThat(out).doesNotExist();
  }

  /**
   * Without labels, new statistics under which the classifier predicts one class for every
   * held-out sample are refused (one-class calibration data does this to a healthy model, and so
   * do statistics that collapse it); --force writes them and says so; the predictions are reported.
   */
  @Test
  void recalibrateWithoutLabelsRefusesStatisticsUnderWhichEverySampleGetsOneClass() throws IOException {
    double[][][] statistics = statisticsOf(x, SAMPLES);
    List<FakeSession.Layer> layers = new ArrayList<>();
    for (int k = 0; k < 2; k++) {
      double[] mean = statistics[k][0].clone();
      for (int c = 0; c < CHANNELS && k == 1; c++) {
        mean[c] += 3 * Math.sqrt(statistics[k][1][c]);
      }
      // the last layer's first channel dominates once its statistics are right
      layers.add(new FakeSession.Layer("bn" + (k + 1), AFFINE[k][0], AFFINE[k][1],
          k == 1 ? new double[] {1, 0.01, 0.01} : new double[] {1, 1, 1},
          k == 1 ? new double[] {4, 0, 0} : new double[CHANNELS], mean, statistics[k][1]));
    }
    Path model = dir.resolve("collapsing.fake");
    FakeSession.write(model, layers);
    Path out = dir.resolve("fixed");
    CliRun refused = CliRun.with(recalibrate(), "recalibrate", model.toString(), "--inputs", inputs.toString(), "--out",
        out.toString());
    assertThat(refused.exitCode()).as(refused.out() + refused.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(refused.err()).contains("recalibrate refused: with the new statistics every one of the 80 held-out"
        + " samples is predicted as class 0, where the old statistics predicted 3 classes", "give --labels");
    assertThat(out).doesNotExist();

    CliRun forced = CliRun.with(recalibrate(), "recalibrate", model.toString(), "--inputs", inputs.toString(), "--out",
        out.toString(), "--force");
    assertThat(forced.exitCode()).as(forced.err()).isZero();
    assertThat(forced.out()).contains("Held-out predictions (no --labels, so no accuracy): 3 of 3 classes predicted"
        + " before, 1 after.", "Written although with the new statistics every one of the 80 held-out samples");
  }

  private CliRun check(Path model, String... options) {
    CheckCommand command = new CheckCommand();
    command.loaders = path -> loader;
    List<String> args = new ArrayList<>(List.of("check", model.toString(), "--inputs", inputs.toString(), "--format",
        "json"));
    args.addAll(List.of(options));
    return CliRun.with(command, args.toArray(new String[0]));
  }

  private RecalibrateCommand recalibrate() {
    RecalibrateCommand command = new RecalibrateCommand();
    command.loaders = path -> loader;
    return command;
  }

  /** The views the last session ran. */
  private List<View> passes() {
    return loader.opened.get(loader.opened.size() - 1).passes;
  }

  /** A model of the two layers with these statistics, the second layer's means moved by {@code shift}. */
  private Path model(String name, double[][][] statistics, double shift) {
    List<FakeSession.Layer> layers = new ArrayList<>();
    for (int k = 0; k < 2; k++) {
      double[] mean = statistics[k][0].clone();
      for (int c = 0; c < CHANNELS && k == 1; c++) {
        mean[c] += shift * Math.sqrt(statistics[k][1][c]);
      }
      layers.add(new FakeSession.Layer("bn" + (k + 1), AFFINE[k][0], AFFINE[k][1], new double[] {1, 1, 1},
          new double[CHANNELS], mean, statistics[k][1]));
    }
    Path file = dir.resolve(name + ".fake");
    FakeSession.write(file, layers);
    return file;
  }

  /**
   * Each layer's population mean and unbiased variance of its input, the layers before it
   * normalizing with theirs: computed here in double, apart from the fake's float32 run.
   */
  private static double[][][] statisticsOf(float[] data, int samples) {
    double[][][] out = new double[2][][];
    double[] previous = new double[data.length];
    for (int i = 0; i < data.length; i++) {
      previous[i] = data[i];
    }
    for (int k = 0; k < 2; k++) {
      double[] in = new double[previous.length];
      for (int i = 0; i < in.length; i++) {
        in[i] = AFFINE[k][0] * previous[i] + AFFINE[k][1];
      }
      double[] mean = new double[CHANNELS];
      double[] variance = new double[CHANNELS];
      for (int i = 0; i < in.length; i++) {
        mean[i % CHANNELS] += in[i] / samples;
      }
      for (int i = 0; i < in.length; i++) {
        double d = in[i] - mean[i % CHANNELS];
        variance[i % CHANNELS] += d * d / (samples - 1);
      }
      out[k] = new double[][] {mean, variance};
      for (int i = 0; i < in.length; i++) {
        int c = i % CHANNELS;
        previous[i] = (in[i] - mean[c]) / Math.sqrt(variance[c] + FakeSession.EPSILON);
      }
    }
    return out;
  }

  private static List<String> codes(CliRun run) throws IOException {
    List<String> codes = new ArrayList<>();
    new ObjectMapper().readTree(run.out()).get("findings").forEach(f -> codes.add(f.get("code").asText()));
    return codes;
  }

  private static int layersWithTrainingView(CliRun run) throws IOException {
    int n = 0;
    for (JsonNode layer : new ObjectMapper().readTree(run.out()).get("layers")) {
      n += layer.get("training_view_metrics").isNull() ? 0 : 1;
    }
    return n;
  }
}
