package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.TestFiles;
import dev.bncheck.load.array.NpyReader;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verdict policy end to end on the TF1 and Keras mistake reproductions: healthy models pass
 * on little data and on files sorted by class, broken ones are caught, and data prepared
 * differently from training is named as such (docs/findings.md, "When a difference counts").
 */
class VerdictPolicyTest {

  private static final String MISTAKES = "samples/tf-bn-mistakes/";

  @TempDir Path dir;

  /** The first {@code n} samples of a held-out set, sorted by class when asked, scaled by {@code scale}. */
  private Path data(String set, int n, boolean sortedByClass, float scale) throws IOException {
    return data(set, n, sortedByClass, scale, 0);
  }

  /** The same, with {@code offset} added after the scaling. */
  private Path data(String set, int n, boolean sortedByClass, float scale, float offset) throws IOException {
    Tensor.Float32 inputs = (Tensor.Float32) NpyReader.read(Path.of(MISTAKES + set + "/inputs.npy"));
    Tensor labels = NpyReader.read(Path.of(MISTAKES + set + "/labels.npy"));
    int row = inputs.size() / inputs.shape()[0];
    List<Integer> order = new ArrayList<>(IntStream.range(0, n).boxed().toList());
    if (sortedByClass) {
      order.sort(Comparator.comparingDouble(labels::get));
    }
    float[] out = new float[n * row];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < row; j++) {
        out[i * row + j] = scale * inputs.data()[order.get(i) * row + j] + offset;
      }
    }
    int[] shape = inputs.shape().clone();
    shape[0] = n;
    Path file = dir.resolve(set + "-" + n + (sortedByClass ? "-sorted" : "") + "-" + scale + "+" + offset + ".npy");
    Files.write(file, TestFiles.npy(out, shape));
    return file;
  }

  private static JsonNode check(String model, Path data, String... more) throws IOException {
    List<String> args = new ArrayList<>(List.of("check", MISTAKES + model, "--inputs", data.toString(),
        "--format", "json"));
    args.addAll(Arrays.asList(more));
    CliRun run = CliRun.of(args.toArray(new String[0]));
    assertThat(run.exitCode()).as(run.err()).isIn(0, 1);
    JsonNode report = new ObjectMapper().readTree(run.out());
    assertThat(report.at("/verdict").asText()).isEqualTo(run.exitCode() == 0 ? "pass" : "fail");
    return report;
  }

  private static List<String> errors(JsonNode report) {
    List<String> out = new ArrayList<>();
    report.get("findings").forEach(f -> {
      if (f.get("severity").asText().equals("error")) {
        out.add(f.get("code").asText());
      }
    });
    return out;
  }

  @Test
  void aHealthyModelPassesOnSixteenSamples() throws IOException {
    JsonNode report = check("tf1-correct", data("tf1-data", 16, false, 1));
    assertThat(errors(report)).isEmpty();
  }

  /** Batches of one class each: batch statistics unlike the population's are no finding. */
  @Test
  void aHealthyModelPassesOnAFileSortedByClassInEitherBatchOrder() throws IOException {
    Path sorted = data("tf1-data", 256, true, 1);
    JsonNode shuffled = check("tf1-correct", sorted);
    assertThat(errors(shuffled)).isEmpty();
    assertThat(shuffled.at("/data/batches").asText()).isEqualTo("of up to 32 samples, drawn in a fixed shuffled order"
        + " (--batch-order)");
    JsonNode fileOrder = check("tf1-correct", sorted, "--batch-order", "file");
    assertThat(errors(fileOrder)).isEmpty();
    assertThat(fileOrder.at("/data/batches").asText()).isEqualTo("of up to 32 samples, in the file's order");
  }

  @Test
  void staleStatisticsAreCaughtOnSixtyFourSamples() throws IOException {
    assertThat(errors(check("tf1-stale-decay", data("tf1-data", 64, false, 1)))).contains("BN003");
  }

  /**
   * Tabular data whose rows are now and then 30 times larger than usual (1% of rows in training):
   * a calibration file of 64 rows that happens to hold three such rows has a variance four times
   * the moving one. The groups of samples show the heavy tail, and the variance test widens by
   * it: an outside tester's healthy models failed with BN003 errors at 8 to 64 samples. Moving
   * means three standard deviations off are still an error on the same data.
   */
  @Test
  void rareLargeRowsInLittleDataAreNoErrorButShiftedMeansStillAre() throws IOException {
    java.util.SplittableRandom random = new java.util.SplittableRandom(7);
    int rows = 64;
    int channels = 16;
    float[] x = new float[rows * channels];
    for (int r = 0; r < rows; r++) {
      double scale = r == 5 || r == 23 || r == 50 ? 30 : 1;
      for (int c = 0; c < channels; c++) {
        x[r * channels + c] = (float) (scale * random.nextGaussian());
      }
    }
    // the population the statistics were averaged over: 99% N(0, 1) and 1% N(0, 30^2)
    float populationVariance = (float) (0.99 + 0.01 * 900);
    float[] variance = new float[channels];
    java.util.Arrays.fill(variance, populationVariance);
    float[] ones = filled(channels, 1f);
    float[] shifted = new float[channels];
    java.util.Arrays.fill(shifted, 3 * (float) Math.sqrt(populationVariance));

    assertThat(errors(checkDump(tabularDump(new float[channels], variance, ones, x)))).isEmpty();
    assertThat(errors(checkDump(tabularDump(shifted, variance, ones, x)))).contains("BN003");
  }

  /**
   * 64 rows of N(0, 1) in one batch against statistics averaged over data whose rare rows are 20
   * times larger (population variance 4.99): a sample that missed those rows is 5 times narrower,
   * and one batch cannot show what it missed. Before the allowance for unseen tails this was a BN003
   * error; now it is too little data, with the samples of four batches. Data 10 times wider than
   * the statistics shows its tails and stays an error (BN011 for this one-layer model).
   */
  @Test
  void narrowerDataInOneBatchIsTooLittleDataWiderDataIsAnError() throws IOException {
    int rows = 64;
    int channels = 16;
    float[] x = normalRows(rows, channels, 13);
    float[] ones = filled(channels, 1f);
    float[] wide = filled(channels, 4.99f);
    float[] narrow = filled(channels, 0.1f);

    JsonNode narrower = checkDump(tabularDump(new float[channels], wide, ones, x));
    assertThat(errors(narrower)).as(narrower.path("findings").toString()).isEmpty();
    JsonNode finding = bn003(narrower);
    assertThat(finding.path("severity").asText()).isEqualTo("info");
    assertThat(finding.path("message").asText()).contains("1 batches cannot show the data's tails")
        .contains("about 1400 samples, in 4 batches or more, tell");
    // one layer: its data unlike the statistics is BN011, which BN003 on the layer then follows from
    assertThat(errors(checkDump(tabularDump(new float[channels], narrow, ones, x)))).containsExactly("BN011");
  }

  /**
   * Eight batches of 32 rows, 1% of rows 30 times larger: the batches' variances vary about five
   * times as much as normal data's, beyond the 3.4 at which moving statistics averaged over 608
   * samples (PyTorch's momentum 0.1) can be judged. A moving variance 10 times the data's is then too
   * uncertain to judge (it was an error); a moving mean 3 deviations off still counts (BN011 for this
   * one-layer model), and a count of 3 updates makes the undecided variances a warning.
   */
  @Test
  void tailsTooHeavyToJudgeLeaveTheVariancesUndecidedButNotTheMeans() throws IOException {
    int rows = 256;
    int channels = 16;
    java.util.SplittableRandom random = new java.util.SplittableRandom(17);
    float[] x = new float[rows * channels];
    for (int r = 0; r < rows; r++) {
      double scale = r == 10 || r == 100 || r == 200 ? 30 : 1;
      for (int c = 0; c < channels; c++) {
        x[r * channels + c] = (float) (scale * random.nextGaussian());
      }
    }
    float[] ones = filled(channels, 1f);
    float[] dataVariance = new float[channels];
    float[] dataMean = new float[channels];
    for (int c = 0; c < channels; c++) {
      double sum = 0;
      double sumSq = 0;
      for (int r = 0; r < rows; r++) {
        sum += x[r * channels + c];
        sumSq += (double) x[r * channels + c] * x[r * channels + c];
      }
      dataMean[c] = (float) (sum / rows);
      dataVariance[c] = (float) (sumSq / rows - (sum / rows) * (sum / rows));
    }
    float[] tenTimes = new float[channels];
    float[] shifted = new float[channels];
    for (int c = 0; c < channels; c++) {
      tenTimes[c] = 10 * dataVariance[c];
      shifted[c] = dataMean[c] + 3 * (float) Math.sqrt(dataVariance[c]);
    }

    JsonNode uncertain = checkDump(batchedDump(dataMean, tenTimes, ones, x, 32, 0));
    assertThat(errors(uncertain)).isEmpty();
    assertThat(bn003(uncertain).path("severity").asText()).isEqualTo("info");
    assertThat(bn003(uncertain).path("message").asText()).startsWith("too uncertain to judge the moving statistics")
        .contains("the data's tails are so heavy");
    assertThat(errors(checkDump(batchedDump(shifted, dataVariance, ones, x, 32, 0)))).containsExactly("BN011");

    // data 10 times wider than the statistics (input scaled by 10) shows its tails: still an error,
    // where an outside tester's scaled input had passed as too heavy-tailed to judge
    float[] hundredth = new float[channels];
    for (int c = 0; c < channels; c++) {
      hundredth[c] = dataVariance[c] / 100;
    }
    JsonNode scaled = checkDump(batchedDump(dataMean, hundredth, ones, x, 32, 0));
    assertThat(errors(scaled)).as(scaled.path("findings").toString()).containsExactly("BN011");

    JsonNode counted = checkDump(batchedDump(dataMean, tenTimes, ones, x, 32, 3));
    assertThat(bn003(counted).path("severity").asText()).isEqualTo("warning");
    assertThat(bn003(counted).path("message").asText()).contains("num_batches_tracked records only 3 updates");
  }

  /**
   * 64 normal samples in 2 batches of 32, 3.3 times narrower than the statistics: the allowance for
   * tails 2 batches cannot show leaves this at chance, and it passed without a word (an outside
   * tester's NHWC images read as NCHW) while 4 batches of 16 caught it. It is too little data now.
   */
  @Test
  void aDifferenceOnlyTheTailAllowanceExplainsIsTooLittleDataNotSilence() throws IOException {
    int rows = 64;
    int channels = 16;
    float[] x = normalRows(rows, channels, 19);
    float[] ones = filled(channels, 1f);
    float[] wide = filled(channels, 3.3f);
    JsonNode report = checkDump(batchedDump(new float[channels], wide, ones, x, 32, 0));
    assertThat(errors(report)).isEmpty();
    assertThat(bn003(report).path("severity").asText()).isEqualTo("info");
    assertThat(bn003(report).path("message").asText()).contains("2 batches cannot show the data's tails")
        .contains("about 1400 samples, in 4 batches or more, tell");
  }

  /**
   * 64 normal samples in 2 batches of 32, half the channels 37 times narrower than the statistics:
   * beyond even the heaviest tails that can be judged (3.5 times normal's error here), but a sample
   * that missed rare rows of any weight is that much narrower, and 2 batches cannot show them. A
   * warning that says so, not an error (healthy MLPs of log-normal data with 1% of rows 20 times
   * larger got BN003 errors on 64 samples). In 4 batches of 16 the tails are measured, and normal,
   * but half the channels narrower, each layer's channel by its own factor, may still be rows too
   * rare for 64 samples to hold: a warning too, until the 1,400 samples that would show them
   * (momentum 0.1), where it is an error.
   */
  @Test
  void narrowerDataInTwoBatchesIsAWarningUntilFourBatchesMeasureItsTails() throws IOException {
    int rows = 64;
    int channels = 16;
    float[] x = normalRows(rows, channels, 29);
    float[] ones = filled(channels, 1f);
    float[] variance = new float[channels];
    for (int c = 0; c < channels; c++) {
      variance[c] = c < channels / 2 ? 37f : 1f;
    }
    JsonNode twoBatches = checkDump(batchedDump(new float[channels], variance, ones, x, 32, 0));
    assertThat(errors(twoBatches)).as(twoBatches.path("findings").toString()).isEmpty();
    JsonNode finding = bn003(twoBatches);
    assertThat(finding.path("severity").asText()).isEqualTo("warning");
    assertThat(finding.path("message").asText()).contains("8 of them beyond the error thresholds")
        .contains("2 batches cannot show the data's tails").contains("no error below about 1400 samples, in 4 batches or more");

    JsonNode fourBatches = checkDump(batchedDump(new float[channels], variance, ones, x, 16, 0));
    assertThat(errors(fourBatches)).as(fourBatches.path("findings").toString()).isEmpty();
    assertThat(bn003(fourBatches).path("message").asText()).contains("rows too rare for 64 samples to show")
        .contains("no error below about 1400 samples");
    float[] more = normalRows(1408, channels, 41);
    JsonNode enough = checkDump(batchedDump(new float[channels], variance, ones, more, 32, 0));
    assertThat(errors(enough)).as(enough.path("findings").toString()).contains("BN003");
  }

  /**
   * 256 normal samples in 8 batches against statistics 3 to 27 times wider, each channel by its own
   * factor, the means where they were: what a sample that missed rows too rare for 256 samples to
   * hold looks like (healthy MLPs of log-normal data with 1% of rows 20 times larger got BN011
   * errors in 2 of 12 such draws). A warning below 1,400 samples (momentum 0.1); an error where one
   * factor fits every channel (a scaling), where the means moved too, or from 1,400 samples on.
   */
  @Test
  void narrowerByItsOwnFactorInEachChannelIsAWarningBelowTheSamplesThatShowRareRows() throws IOException {
    int channels = 16;
    float[] ones = filled(channels, 1f);
    float[] own = new float[channels];
    for (int c = 0; c < channels; c++) {
      own[c] = (float) (3 * Math.pow(9, c / (channels - 1.0)));
    }
    float[] x = normalRows(256, channels, 31);

    JsonNode rare = checkDump(batchedDump(new float[channels], own, ones, x, 32, 0));
    assertThat(errors(rare)).as(rare.path("findings").toString()).isEmpty();
    JsonNode bn011 = finding(rare, "BN011");
    assertThat(bn011.path("severity").asText()).isEqualTo("warning");
    assertThat(bn011.path("message").asText()).contains("rows too rare for 256 samples to show")
        .contains("a warning below about 1400 samples");
    assertThat(bn011.path("evidence").path("likely_cause").asText()).isEqualTo("preprocessing_domain_or_rare_rows");
    float[] closer = new float[channels];
    for (int c = 0; c < channels; c++) {
      closer[c] = (float) (3 * Math.pow(3, c / (channels - 1.0)));
    }
    JsonNode within = finding(checkDump(batchedDump(new float[channels], closer, ones, x, 32, 0)), "BN011");
    assertThat(within.path("severity").asText()).isEqualTo("warning");
    assertThat(within.path("message").asText()).contains("each channel by its own factor")
        .doesNotContain("alike in every channel");

    assertThat(errors(checkDump(batchedDump(new float[channels], filled(channels, 9f), ones, x, 32, 0))))
        .containsExactly("BN011");
    float[] moved = filled(channels, 6f);
    assertThat(errors(checkDump(batchedDump(moved, own, ones, x, 32, 0)))).containsExactly("BN011");
    assertThat(errors(checkDump(batchedDump(new float[channels], own, ones, normalRows(1408, channels, 37), 32, 0))))
        .containsExactly("BN011");
  }

  /**
   * An outside tester's Keras CNN fed pixels divided by 255 once more (accuracy 0.997 to 0.257)
   * passed with a BN011 warning on 256 and 1,024 samples: a convolution's bias and ReLU kept its
   * channels from one factor, 200 to 670 times narrower, and the rare-rows rule took them for rows
   * the sample missed. Rows that carry 99% of the variance are no such rows: an error, named as
   * preprocessing, in 8 batches and in 2.
   */
  @Test
  void narrowerByHundredsIsNoRareRowsButPreprocessing() throws IOException {
    int channels = 16;
    float[] ones = filled(channels, 1f);
    float[] pixels = new float[channels];
    for (int c = 0; c < channels; c++) {
      pixels[c] = (float) (200 * Math.pow(670 / 200.0, ((c * 7) % channels) / (channels - 1.0)));
    }
    for (int batch : new int[] {32, 128}) {
      JsonNode report = checkDump(batchedDump(new float[channels], pixels, ones, normalRows(256, channels, 43), batch,
          0));
      assertThat(errors(report)).as(report.path("findings").toString()).containsExactly("BN011");
      JsonNode bn011 = finding(report, "BN011");
      assertThat(bn011.path("evidence").path("likely_cause").asText()).isEqualTo("preprocessing");
      assertThat(bn011.path("message").asText()).doesNotContain("rare");
    }
  }

  private static JsonNode finding(JsonNode report, String code) {
    for (JsonNode f : report.path("findings")) {
      if (f.path("code").asText().equals(code)) {
        return f;
      }
    }
    throw new AssertionError("no " + code + " in " + report.path("findings"));
  }

  /**
   * A cumulative average (PyTorch's momentum=None: no momentum, a count) weighs the first training
   * steps as much as the last: means off by one deviation are named as its lag behind the final
   * weights, with update_bn as the fix, not "the data likely differs" (an outside tester's healthy
   * CNN).
   */
  @Test
  void aCumulativeAverageIsNamedAsLaggingTheWeights() throws IOException {
    int rows = 256;
    int channels = 16;
    float[] x = normalRows(rows, channels, 23);
    float[] ones = filled(channels, 1f);
    float[] shifted = new float[channels];
    for (int c = 0; c < channels; c++) {
      shifted[c] = c % 2 == 0 ? 1f : -1f;
    }
    var layer = new dev.bncheck.DumpBuilder().source("framework", "pytorch").layer("bn").channelAxis(1)
        .epsilon(1e-5).numBatchesTracked(500).gamma(ones).beta(new float[channels]).movingMean(shifted)
        .movingVariance(ones);
    for (int start = 0; start < x.length; start += 32 * channels) {
      layer.input(new int[] {32, channels}, java.util.Arrays.copyOfRange(x, start, start + 32 * channels));
    }
    Path file = Files.createTempFile(dir, "cumulative", ".json");
    Files.writeString(file, layer.up().toJson());
    JsonNode finding = bn003(checkDump(file));
    assertThat(finding.path("severity").asText()).isEqualTo("error");
    assertThat(finding.path("evidence").path("likely_cause").asText()).isEqualTo("cumulative_average_lags_weights");
    assertThat(finding.path("message").asText()).contains("averages cumulatively (momentum=None) over all 500");
    assertThat(finding.path("fix").asText()).contains("update_bn");
  }

  /**
   * A cumulative average (momentum=None) keeps nothing of its initial 0/1 after its first update,
   * so statistics halfway from 0/1 to the data (means 2 and -2, variance 4) are no early
   * stop there: an outside tester's healthy ResNet of that kind was told "about 143 updates at
   * decay 0.99" and "nothing in the model records its update count" beside num_batches_tracked 282.
   */
  @Test
  void aCumulativeAverageIsNeverFittedAsAnEarlyStopFromZeroOne() throws IOException {
    int channels = 16;
    float[] x = normalRows(256, channels, 29);
    float[] mean = new float[channels];
    float[] partWay = new float[channels];
    for (int c = 0; c < channels; c++) {
      mean[c] = c % 2 == 0 ? 2f : -2f;
      partWay[c] = 0.5f * mean[c];
    }
    for (int i = 0; i < x.length; i++) {
      x[i] = mean[i % channels] + 2 * x[i];
    }
    var layer = new dev.bncheck.DumpBuilder().source("framework", "pytorch").layer("bn").channelAxis(1)
        .epsilon(1e-5).numBatchesTracked(282).gamma(filled(channels, 1f)).beta(new float[channels])
        .movingMean(partWay).movingVariance(filled(channels, 0.5f * 4 + 0.5f));
    for (int start = 0; start < x.length; start += 32 * channels) {
      layer.input(new int[] {32, channels}, java.util.Arrays.copyOfRange(x, start, start + 32 * channels));
    }
    Path file = Files.createTempFile(dir, "cumulative-part-way", ".json");
    Files.writeString(file, layer.up().toJson());
    JsonNode finding = bn003(checkDump(file));
    assertThat(finding.path("evidence").path("likely_cause").asText()).isEqualTo("cumulative_average_lags_weights");
    assertThat(finding.path("message").asText()).contains("averages cumulatively (momentum=None) over all 282")
        .doesNotContain("exponential average").doesNotContain("nothing in the model records its update count");
  }

  /**
   * 64 normal samples in 2 batches of 32 with one row 60 times larger in channel 0: that channel is
   * 50 times wider than the statistics through one extreme value, which one group of samples holds
   * almost entirely. It shows heavy tails, not how heavy: BN003 says too little data, not an error
   * (a healthy Student-t model's channel 170 times wider through one extreme row was a BN003 error).
   */
  @Test
  void aChannelWiderThroughOneExtremeValueIsTooLittleData() throws IOException {
    int rows = 64;
    int channels = 16;
    float[] x = normalRows(rows, channels, 29);
    x[20 * channels] = 60;
    float[] ones = filled(channels, 1f);
    // statistics that moved from 0/1 (exactly 0/1 would be BN001)
    float[] movingMean = filled(channels, 0.02f);
    float[] movingVariance = filled(channels, 1.05f);
    JsonNode report = checkDump(batchedDump(movingMean, movingVariance, ones, x, 32, 0));
    assertThat(errors(report)).as(report.path("findings").toString()).isEmpty();
    assertThat(bn003(report).path("severity").asText()).isEqualTo("info");
    assertThat(bn003(report).path("message").asText()).contains("through one extreme value, one group of samples"
        + " holding most of its spread");
    // the two modes differ through that value too: a healthy Keras MLP of skewed tabular data got
    // BN004 errors on 16 to 64 samples from one row 10 times larger
    JsonNode bn004 = finding(report, "BN004");
    assertThat(bn004.path("severity").asText()).isEqualTo("info");
    assertThat(bn004.path("message").asText()).contains("in 1 channel (channel 0 first) the data is wider than the"
        + " statistics through one extreme value");
    assertThat(bn004.path("evidence").path("mode_relative_rms_without_them").asDouble()).isLessThan(0.3);

    JsonNode alsoStale = checkDump(batchedDump(filled(channels, 2f), movingVariance, ones, x, 32, 0));
    assertThat(errors(alsoStale)).as(alsoStale.path("findings").toString()).isNotEmpty();
  }

  /**
   * Statistics that are exactly PyTorch's average after 10 updates from 0/1 (momentum 0.1: 0.9^10 =
   * 34.9% of the initial values left) of data whose channel c has variance 0.5 + 0.2c and a mean
   * that leaves each standardized shift at 0.45: beyond the warning threshold (0.25) by far more
   * than chance on 1,024 samples, under the error threshold (0.5). With num_batches_tracked = 10
   * confirming the fit, the statistics are wrong by construction: an error (an outside tester's MLP
   * stopped after 10 updates, accuracy 0.996 -> 0.669, had a warning and passed the gate). Without
   * a count it stays a warning; a count the fit contradicts names the data instead.
   */
  @Test
  void anEarlyStopTheCountConfirmsIsAnErrorBelowTheErrorThresholds() throws IOException {
    int channels = 16;
    EarlyStop stop = EarlyStop.of(1024, channels, 0.45, 31);

    JsonNode counted = bn003(checkDump(dump(stop, 10)));
    assertThat(counted.path("severity").asText()).as(counted.toString()).isEqualTo("error");
    assertThat(counted.path("evidence").path("channels_significantly_beyond_warning").asInt()).isBetween(channels / 2, channels);
    assertThat(counted.path("evidence").path("estimated_updates").asLong()).isEqualTo(10);
    assertThat(counted.path("evidence").path("initial_weight").asDouble()).isCloseTo(EarlyStop.LEFT, within(1e-6));
    assertThat(counted.path("message").asText()).contains("which num_batches_tracked (10) confirms; after 10 updates"
        + " the average still holds 35% of its initial 0/1, which makes this an error although no channel is"
        + " significantly beyond the error thresholds");

    JsonNode uncounted = bn003(checkDump(dump(stop, 0)));
    assertThat(uncounted.path("severity").asText()).as(uncounted.toString()).isEqualTo("warning");
    // the count contradicts the fit: the data differs (BN011 names it, BN003 defers to it)
    JsonNode contradicted = bn003(checkDump(dump(stop, 1000)));
    assertThat(contradicted.path("severity").asText()).as(contradicted.toString()).isEqualTo("info");
    assertThat(contradicted.path("evidence").path("likely_cause").asText()).isEqualTo("data_differs");
    assertThat(contradicted.path("message").asText()).contains("takes about 10 updates while num_batches_tracked"
        + " records 1000");
  }

  /**
   * The same early stop (10 updates at momentum 0.1, 34.9% of 0/1 left), with data whose means leave
   * each predicted standardized shift at 0.3 and variance ratios between 0.75 and 1.35: beyond the
   * warning threshold (0.25) in every channel, but on 256 samples chance explains each (a shift
   * counts from about 0.5 here). Together the 16 channels follow the count's prediction far beyond
   * chance: an error. An outside tester's CNN stopped that way (accuracy 0.86 against 0.99 with the
   * statistics recomputed) passed on 256 samples without a word. Without a count the same statistics
   * stay at most a warning, and a count the fit contradicts names no early stop.
   */
  @Test
  void differencesEachWithinChanceThatAddUpToTheCountsPredictionAreAnError() throws IOException {
    EarlyStop stop = EarlyStop.of(256, 16, 0.3, 37);

    JsonNode counted = bn003(checkDump(dump(stop, 10)));
    assertThat(counted.path("severity").asText()).as(counted.toString()).isEqualTo("error");
    assertThat(counted.path("evidence").path("channels_significantly_beyond_warning").asInt()).isZero();
    assertThat(counted.path("evidence").path("count_prediction_score").asDouble()).isGreaterThan(3);
    assertThat(counted.path("message").asText()).contains("0 of 16 channels beyond the warning thresholds by more"
        + " than chance explains on 256 samples, but together the 16 channels' differences follow the pattern"
        + " num_batches_tracked predicts");

    JsonNode uncounted = checkDump(dump(stop, 0));
    assertThat(errors(uncounted)).as(uncounted.toString()).doesNotContain("BN003");
    JsonNode contradicted = checkDump(dump(stop, 1000));
    assertThat(errors(contradicted)).as(contradicted.toString()).doesNotContain("BN003");
  }

  /**
   * Data far from 0/1 whose moving statistics converged to it (a count restarted by fine-tuning: 10
   * updates would leave 34.9% of 0/1), each moving mean off by 0.3 deviations in one direction for
   * every channel, which the count's prediction (alternating with the data's means) does not follow:
   * no error, whatever the count.
   */
  @Test
  void differencesAgainstTheCountsPredictionAreNoEarlyStop() throws IOException {
    int rows = 256;
    int channels = 16;
    float[] x = normalRows(rows, channels, 41);
    float[] movingMean = new float[channels];
    float[] movingVariance = new float[channels];
    for (int c = 0; c < channels; c++) {
      double mean = c % 2 == 0 ? 2 : -2;
      for (int r = 0; r < rows; r++) {
        x[r * channels + c] = (float) (mean + x[r * channels + c]);
      }
      movingMean[c] = (float) (mean + 0.3);
      movingVariance[c] = 1;
    }
    JsonNode report = checkDump(batchedDump(movingMean, movingVariance, filled(channels, 1f), x, 32, 10));
    assertThat(errors(report)).as(report.toString()).doesNotContain("BN003");
  }

  /**
   * Means at 0 and variances of {@code lowest} to {@code lowest} + 0.45 whose moving variances sit
   * where 20 updates from 1 at momentum 0.1 would leave them (12% of the initial 1; ratios up to
   * 2.2 from 0.1, a channel significantly beyond the warning threshold; up to 1.7 from 0.15, none
   * significantly beyond it, the channels' score beyond chance): the variances alone fit
   * the early stop the count confirms, and they differ so too where dropout precedes the layer (an
   * outside tester's healthy MLP with dropout and its count restarted at 20 was an error, accuracy as
   * with recomputed statistics). A warning that says so, not an error; with means that also moved it
   * is an error (the test above).
   */
  @ParameterizedTest(name = "variances from {0}")
  @ValueSource(doubles = {0.1, 0.15})
  void aCountConfirmingTheVariancesAloneIsAWarning(double lowest) throws IOException {
    int rows = 256;
    int channels = 16;
    double left = Math.pow(0.9, 20);
    float[] x = normalRows(rows, channels, 43);
    float[] movingVariance = new float[channels];
    for (int c = 0; c < channels; c++) {
      double variance = lowest + 0.03 * c;
      for (int r = 0; r < rows; r++) {
        x[r * channels + c] = (float) (Math.sqrt(variance) * x[r * channels + c]);
      }
      movingVariance[c] = (float) (left + (1 - left) * variance);
    }
    JsonNode report = checkDump(batchedDump(new float[channels], movingVariance, filled(channels, 1f), x, 32, 20));
    JsonNode stale = bn003(report);
    assertThat(stale.path("severity").asText()).as(stale.toString()).isEqualTo("warning");
    assertThat(stale.path("evidence").path("count_prediction_score").asDouble()).as("the score alone would decide")
        .isGreaterThan(stale.path("evidence").path("count_prediction_limit").asDouble());
    assertThat(stale.path("message").asText()).contains("which num_batches_tracked (20) confirms", "the means, near 0,"
        + " cannot confirm it: the variances alone also differ this way where dropout precedes the layer");
  }

  /**
   * Statistics that are exactly PyTorch's average after 10 updates from 0/1 at momentum 0.1 (34.9%
   * of the initial values left), of normal data whose channel c has variance 0.5 + 0.2c and a mean
   * that leaves each standardized shift at {@code shift}, alternating in sign; dumped in batches of 32.
   */
  private record EarlyStop(float[] x, float[] movingMean, float[] movingVariance, float[] gamma) {

    static final double LEFT = Math.pow(0.9, 10);

    static EarlyStop of(int rows, int channels, double shift, long seed) {
      float[] x = normalRows(rows, channels, seed);
      float[] movingMean = new float[channels];
      float[] movingVariance = new float[channels];
      for (int c = 0; c < channels; c++) {
        double variance = 0.5 + 0.2 * c;
        double mean = (c % 2 == 0 ? 1 : -1) * shift * Math.sqrt(variance) / LEFT;
        for (int r = 0; r < rows; r++) {
          x[r * channels + c] = (float) (mean + Math.sqrt(variance) * x[r * channels + c]);
        }
        movingMean[c] = (float) ((1 - LEFT) * mean);
        movingVariance[c] = (float) (LEFT + (1 - LEFT) * variance);
      }
      return new EarlyStop(x, movingMean, movingVariance, filled(channels, 1f));
    }
  }

  private Path dump(EarlyStop stop, long numBatchesTracked) throws IOException {
    return batchedDump(stop.movingMean(), stop.movingVariance(), stop.gamma(), stop.x(), 32, numBatchesTracked);
  }

  /** {@code rows} samples of {@code channels} standard normal values, row-major, from a fixed seed. */
  private static float[] normalRows(int rows, int channels, long seed) {
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    float[] x = new float[rows * channels];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    return x;
  }

  private static float[] filled(int channels, float value) {
    float[] out = new float[channels];
    java.util.Arrays.fill(out, value);
    return out;
  }

  private static JsonNode bn003(JsonNode report) {
    return finding(report, "BN003");
  }

  /** A PyTorch dump of {@code x} cut into batches of {@code batch} rows, with a count of updates if positive. */
  private Path batchedDump(float[] movingMean, float[] movingVariance, float[] gamma, float[] x, int batch,
      long numBatchesTracked) throws IOException {
    int channels = gamma.length;
    var layer = new dev.bncheck.DumpBuilder().source("framework", "pytorch").layer("bn").channelAxis(1)
        .epsilon(1e-5).momentum(0.1, "pytorch").gamma(gamma).beta(new float[channels])
        .movingMean(movingMean).movingVariance(movingVariance);
    if (numBatchesTracked > 0) {
      layer.numBatchesTracked(numBatchesTracked);
    }
    for (int start = 0; start < x.length; start += batch * channels) {
      layer.input(new int[] {batch, channels}, java.util.Arrays.copyOfRange(x, start, start + batch * channels));
    }
    Path file = Files.createTempFile(dir, "batched", ".json");
    Files.writeString(file, layer.up().toJson());
    return file;
  }

  private Path tabularDump(float[] movingMean, float[] movingVariance, float[] gamma, float[] x) throws IOException {
    String json = new dev.bncheck.DumpBuilder().source("framework", "pytorch").layer("bn").channelAxis(1)
        .epsilon(1e-5).momentum(0.1, "pytorch").gamma(gamma).beta(new float[gamma.length])
        .movingMean(movingMean).movingVariance(movingVariance)
        .input(new int[] {x.length / gamma.length, gamma.length}, x).up().toJson();
    Path file = Files.createTempFile(dir, "tabular", ".json");
    Files.writeString(file, json);
    return file;
  }

  private static JsonNode checkDump(Path dump) throws IOException {
    CliRun run = CliRun.of("check", dump.toString(), "--format", "json");
    assertThat(run.exitCode()).as(run.err()).isIn(0, 1);
    return new ObjectMapper().readTree(run.out());
  }

  /**
   * A constant added to every input (the mean subtraction of training left out): the first layer's
   * means move, its variances stay, which no average stopped early does. It was named an early
   * stop ("moved 40% of the way") with the fix "train longer".
   */
  @Test
  void aConstantOffsetIsNamedAsPreprocessingNotAsAnEarlyStop() throws IOException {
    JsonNode report = check("keras-healthy", data("keras-data", 128, false, 1, 1));
    assertThat(errors(report)).containsExactly("BN011");
    JsonNode mismatch = report.get("findings").findParents("code").stream()
        .filter(f -> f.get("code").asText().equals("BN011")).findFirst().orElseThrow();
    assertThat(mismatch.get("message").asText()).contains("the data's mean is off while its spread matches the statistics' in", "an offset",
        "A mean subtraction that differs from training's");
    assertThat(mismatch.at("/evidence/likely_cause").asText()).isEqualTo("preprocessing_offset");
    JsonNode firstLayer = report.get("findings").get(0);
    assertThat(firstLayer.get("code").asText()).isEqualTo("BN003");
    assertThat(firstLayer.at("/evidence/likely_cause").asText()).isEqualTo("data_differs");
    assertThat(firstLayer.get("message").asText()).contains("the means fit an average that moved 31",
        "% of the way to the data, the variances fit an average that moved 10", "this is no early stop")
        .doesNotContain("updates at");
  }

  /**
   * The TF1 sample fed its data plus 1: through its padded convolution the first layer's means and
   * variances move alike, exactly as an early stop moves them, and the model records no update
   * count to refute it. It was named an early stop with "train longer" alone; the report now says
   * what would tell the two apart.
   */
  @Test
  void anEarlyStopNoCountConfirmsNamesTheOffsetItCannotRuleOut() throws IOException {
    JsonNode report = check("tf1-correct", data("tf1-data", 128, false, 1, 1));
    JsonNode first = report.get("findings").get(0);
    assertThat(first.get("code").asText()).isEqualTo("BN003");
    assertThat(first.at("/evidence/likely_cause").asText()).isEqualTo("too_few_updates");
    assertThat(first.at("/evidence/alternative_cause").asText()).isEqualTo("preprocessing_offset");
    assertThat(first.get("message").asText()).contains("nothing in the model records its update count: if training"
        + " ran far longer than this, the data differs from training's instead");
  }

  /**
   * The training set's channel means subtracted a second time: the first layer's means move in
   * both directions while the spread stays, an offset; it was named "a scaling the training data
   * did not have" with lagging statistics beside it.
   */
  @Test
  void anExtraMeanSubtractionIsNamedAsAnOffset() throws IOException {
    Tensor.Float32 inputs = (Tensor.Float32) NpyReader.read(Path.of(MISTAKES + "keras-data/inputs.npy"));
    int channels = inputs.shape()[3];
    double[] mean = new double[channels];
    for (int i = 0; i < inputs.size(); i++) {
      mean[i % channels] += inputs.data()[i] / (inputs.size() / (double) channels);
    }
    float[] centred = new float[inputs.size()];
    for (int i = 0; i < inputs.size(); i++) {
      centred[i] = (float) (inputs.data()[i] - mean[i % channels]);
    }
    Path file = dir.resolve("mean-subtracted-twice.npy");
    Files.write(file, TestFiles.npy(centred, inputs.shape()));

    JsonNode report = check("keras-healthy", file);

    assertThat(errors(report)).containsExactly("BN011");
    JsonNode mismatch = report.get("findings").findParents("code").stream()
        .filter(f -> f.get("code").asText().equals("BN011")).findFirst().orElseThrow();
    assertThat(mismatch.at("/evidence/likely_cause").asText()).isEqualTo("preprocessing_offset");
  }

  /** Pixels scaled by 255 for a model trained on the unscaled data: the data is named, not the statistics. */
  @Test
  void dataScaledBy255IsNamedAsPreprocessing() throws IOException {
    JsonNode report = check("keras-healthy", data("keras-data", 128, false, 255));
    assertThat(errors(report)).containsExactly("BN011");
    JsonNode mismatch = report.get("findings").findParents("code").stream()
        .filter(f -> f.get("code").asText().equals("BN011")).findFirst().orElseThrow();
    assertThat(mismatch.get("message").asText()).contains("as if pixels in 0..255 reach a model trained on 0..1",
        "confidence high");
    report.get("findings").forEach(f -> assertThat(f.get("message").asText()).doesNotContain("updates at momentum"));
  }

  /**
   * Inputs scaled by 2 (in -1..1 for a model trained on 0..1): every channel's variance is off by
   * the same factor 4, which no lag of the statistics does. It was called "a factor this close to
   * 1" with lagging statistics as one of three equal causes.
   */
  @Test
  void dataScaledBy2IsNamedAsAScalingNotAsLaggingStatistics() throws IOException {
    for (float scale : new float[] {2, 0.5f}) {
      JsonNode report = check("keras-healthy", data("keras-data", 128, false, scale));
      assertThat(errors(report)).containsExactly("BN011");
      JsonNode mismatch = report.get("findings").findParents("code").stream()
          .filter(f -> f.get("code").asText().equals("BN011")).findFirst().orElseThrow();
      assertThat(mismatch.at("/evidence/likely_cause").asText()).isEqualTo("scaling_preprocessing_or_domain");
      assertThat(mismatch.get("message").asText())
          .contains(scale == 2 ? "as if inputs in -1..1 reach a model trained on 0..1"
              : "as if inputs in 0..1 reach a model trained on -1..1",
              "Two causes fit one factor alike in every channel (confidence medium)",
              "lag each channel by its own amount, not alike")
          .doesNotContain("close to 1");
    }
  }

  /**
   * Batches of one sample: training mode would normalize each sample with its own statistics, so
   * BN004 and the training view have nothing to compare; they were false errors on every layer.
   */
  @Test
  void batchesOfOneSampleGiveNoFalseErrors() throws IOException {
    JsonNode tf1 = check("tf1-correct", data("tf1-data", 64, false, 1), "--batch-size", "1");
    assertThat(errors(tf1)).isEmpty();
    assertThat(tf1.toString()).contains("batches of one sample: training mode normalizes a sample with its own"
        + " statistics");
    assertThat(errors(check("keras-healthy", data("keras-data", 64, false, 1), "--batch-size", "1"))).isEmpty();
  }

  /** 4 images repeated 64 times are 4 samples' worth of information, not 256 (they gave BN003 errors). */
  @Test
  void repeatedSamplesCountOnce() throws IOException {
    Tensor.Float32 inputs = (Tensor.Float32) NpyReader.read(Path.of(MISTAKES + "tf1-data/inputs.npy"));
    int row = inputs.size() / inputs.shape()[0];
    float[] repeated = new float[256 * row];
    for (int i = 0; i < 256; i++) {
      System.arraycopy(inputs.data(), (i % 4) * row, repeated, i * row, row);
    }
    Path file = dir.resolve("four-repeated.npy");
    Files.write(file, TestFiles.npy(repeated, 256, 8, 8, 1));
    JsonNode report = check("tf1-correct", file);
    assertThat(errors(report)).isEmpty();
    assertThat(report.toString()).contains("too little calibration data: 4 samples (distinct among 256), fewer than"
        + " the 8 a mean or a variance needs");
    assertThat(report.path("data").path("samples").asLong()).isEqualTo(256);
    assertThat(report.path("data").path("distinct_samples").asLong()).isEqualTo(4);
    assertThat(report.path("layers").get(0).path("calibration").path("distinct_samples").asLong()).isEqualTo(4);
  }

  /** Calibration data of NaN only passed with two warnings: nothing finite reached any layer. */
  @Test
  void calibrationDataWithNothingFiniteFailsTheGate() throws IOException {
    float[] nan = new float[16 * 12 * 12 * 3];
    Arrays.fill(nan, Float.NaN);
    Path file = dir.resolve("all-nan.npy");
    Files.write(file, TestFiles.npy(nan, 16, 12, 12, 3));

    JsonNode report = check("keras-healthy", file);

    assertThat(errors(report)).containsExactly("BN010", "BN010");
    assertThat(report.get("findings").get(0).get("message").asText())
        .startsWith("every calibration value reaching the layer is NaN or infinite");
  }

  /** One sample: the pass rests on the static checks alone, and the verdict line says so. */
  @Test
  void aPassOnTooLittleDataSaysTheDataChecksDidNotRun() throws IOException {
    Path one = data("keras-data", 1, false, 1);
    CliRun run = CliRun.of("check", MISTAKES + "keras-healthy", "--inputs", one.toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("PASS: no findings at or above --fail-on error (0 errors, 0 warnings, 0 info); the"
        + " data checks did not run: too little calibration data: 1 sample");

    JsonNode report = check("keras-healthy", one);
    assertThat(report.at("/data/data_checks_skipped").asText()).startsWith("too little calibration data: 1 sample");
    assertThat(check("keras-healthy", data("keras-data", 64, false, 1)).at("/data/data_checks_skipped").isNull())
        .isTrue();
  }

  /** A passing verdict says what it rests on: the samples, and how many of them are distinct. */
  @Test
  void passingVerdictNamesTheSamplesItRestsOn() throws IOException {
    CliRun run = CliRun.of("check", MISTAKES + "tf1-correct", "--inputs", data("tf1-data", 64, false, 1).toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains(", 64 samples\n").contains("calibration: 2 batches, 64 samples, ");
  }
}
