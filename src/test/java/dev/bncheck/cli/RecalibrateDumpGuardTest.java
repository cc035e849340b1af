package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.DumpBuilder;
import dev.bncheck.load.dump.BnModelFromDump;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import dev.bncheck.repair.DataSplit;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dump is recalibrated under the policy of a model (docs/recalibrate.md, "When it refuses"), on
 * its own samples split as a model's inputs are: an outside tester found dumps of 1 and 8 samples,
 * and dumps whose statistics already matched their data, rewritten without a word.
 */
class RecalibrateDumpGuardTest {

  private static final int CHANNELS = 4;
  private static final double[] MEAN = {0.5, -1.0, 2.0, 0.25};
  private static final double[] VARIANCE = {1.0, 0.25, 4.0, 2.25};

  @TempDir Path dir;

  /**
   * A one-layer dump of {@code samples} samples of 3x3 positions drawn around {@link #MEAN} and
   * {@link #VARIANCE}, times {@code scale}, in 4 batches, with the given moving statistics.
   */
  private Path dump(String name, int samples, double scale, double[] movingMean, double[] movingVariance) {
    Random random = new Random(7);
    DumpBuilder.Layer layer = new DumpBuilder().layer("bn").channelAxis(-1)
        .gamma(1, 1, 1, 1).beta(0, 0, 0, 0).movingMean(floats(movingMean)).movingVariance(floats(movingVariance));
    int positions = 9;
    for (int from = 0; from < samples; ) {
      int batch = Math.min(samples - from, Math.max(1, samples / 4));
      float[] data = new float[batch * positions * CHANNELS];
      for (int i = 0; i < data.length; i++) {
        int c = i % CHANNELS;
        data[i] = (float) (scale * (MEAN[c] + Math.sqrt(VARIANCE[c]) * random.nextGaussian()));
      }
      layer.input(new int[] {batch, 3, 3, CHANNELS}, data);
      from += batch;
    }
    return layer.up().writeTo(dir.resolve(name + ".json"));
  }

  private static float[] floats(double[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  private static final double[] STALE_MEAN = {0, 0.1, 0.2, 0.05};
  private static final double[] STALE_VARIANCE = {1.5, 1.2, 1.1, 1.3};

  private static CliRun recalibrate(Path dump, Path out, String... more) {
    String[] args = new String[4 + more.length];
    args[0] = "recalibrate";
    args[1] = dump.toString();
    args[2] = "--out";
    args[3] = out.toString();
    System.arraycopy(more, 0, args, 4, more.length);
    return CliRun.of(args);
  }

  @Test
  void dumpsOfOneOrEightSamplesAreRefusedUnlessForced() {
    for (int samples : new int[] {1, 8}) {
      Path dump = dump("few-" + samples, samples, 1, STALE_MEAN, STALE_VARIANCE);
      Path out = dir.resolve("fixed-" + samples + ".json");
      CliRun refused = recalibrate(dump, out);
      assertThat(refused.exitCode()).as(refused.err()).isEqualTo(ExitCodes.FINDINGS);
      int calibration = samples - (int) Math.floor(samples * 0.2);
      assertThat(refused.err()).contains("bncheck: recalibrate refused: " + calibration + " calibration samples cannot"
          + " set the statistics of 4 channels: chance alone would move them by more than check's error threshold;"
          + " about 37 distinct samples are needed; nothing written (--force writes anyway)");
      assertThat(out).doesNotExist();

      CliRun forced = recalibrate(dump, out, "--force");
      assertThat(forced.exitCode()).as(forced.err()).isZero();
      assertThat(forced.out()).contains("Written although " + calibration + " calibration samples cannot set",
          "Wrote " + out);
      assertThat(out).isRegularFile();
    }
  }

  /** Statistics that are the data's own population's: nothing to fix, as for a model. */
  @Test
  void statisticsThatAlreadyDescribeTheDataAreNotRewrittenUnlessForced() {
    Path dump = dump("healthy", 500, 1, MEAN, VARIANCE);
    Path out = dir.resolve("fixed.json");
    CliRun refused = recalibrate(dump, out);
    assertThat(refused.exitCode()).as(refused.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(refused.err()).startsWith("bncheck: recalibrate refused: the model's statistics already describe the"
        + " held-out samples within chance").contains("on 100 samples): recalibrating them fixes nothing")
        .doesNotContain("cannot set the statistics");
    assertThat(refused.out()).contains("verified on the held-out samples");
    assertThat(out).doesNotExist();

    CliRun forced = recalibrate(dump, out, "--force");
    assertThat(forced.exitCode()).as(forced.err()).isZero();
    assertThat(forced.out()).contains("Written although the model's statistics already describe the held-out samples"
        + " within chance");
    assertThat(out).isRegularFile();
  }

  /**
   * A layer that keeps no running statistics (PyTorch's track_running_stats=False) stays broken
   * whatever the others' statistics: refused, and said so, not "nothing to fix".
   */
  @Test
  void aLayerWithoutRunningStatisticsIsNamedAsWhatRecalibratingCannotFix() throws java.io.IOException {
    Path dump = dump("healthy", 500, 1, MEAN, VARIANCE);
    String json = java.nio.file.Files.readString(dump);
    Path withBatchStatistics = dir.resolve("batch-statistics.json");
    java.nio.file.Files.writeString(withBatchStatistics, json.replaceFirst("\\{", "{\"batch_statistics_layers\":"
        + " [{\"name\": \"bn2\", \"reason\": \"track_running_stats=False\"}], "));
    Path out = dir.resolve("fixed.json");
    CliRun refused = recalibrate(withBatchStatistics, out);
    assertThat(refused.exitCode()).as(refused.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(refused.err()).contains("layer bn2 keeps no running statistics and normalizes with each batch's own"
        + " (BN002): recalibrating cannot fix that").contains("recalibrating them fixes nothing");
    assertThat(out).doesNotExist();
  }

  /**
   * Stale statistics on enough samples are rewritten with the statistics of the samples the split
   * keeps for calibration: the same samples {@link DataSplit} keeps of a model's inputs.
   */
  @Test
  void staleStatisticsBecomeThoseOfTheSamplesTheModelRouteWouldKeep() {
    int samples = 500;
    Path dump = dump("stale", samples, 1, STALE_MEAN, STALE_VARIANCE);
    Path out = dir.resolve("fixed.json");
    CliRun run = recalibrate(dump, out);
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.err()).isEmpty();

    float[] all = new float[samples * 9 * CHANNELS];
    int[] at = {0};
    new BnModelFromDump().load(dump, new CalibrationSink() {
      @Override
      public boolean wantsActivations() {
        return true;
      }

      @Override
      public void accept(int layerIndex, Tensor batch, int channelAxis) {
        System.arraycopy(((Tensor.Float32) batch).data(), 0, all, at[0], batch.size());
        at[0] += batch.size();
      }
    });
    Tensor kept = DataSplit.of(Map.of("", new Tensor.Float32(new int[] {samples, 3, 3, CHANNELS}, all)), 0.2)
        .calibration().get("");
    assertThat(kept.shape()[0]).isEqualTo(400);
    BnLayer written = new BnModelFromDump().load(out, CalibrationSink.NONE).layers().get(0);
    long n = kept.size() / CHANNELS;
    for (int c = 0; c < CHANNELS; c++) {
      double sum = 0;
      for (int i = c; i < kept.size(); i += CHANNELS) {
        sum += kept.get(i);
      }
      double mean = sum / n;
      double squares = 0;
      for (int i = c; i < kept.size(); i += CHANNELS) {
        squares += (kept.get(i) - mean) * (kept.get(i) - mean);
      }
      assertThat(written.movingMean()[c]).isCloseTo(mean, within(1e-9));
      assertThat(written.movingVariance()[c]).isCloseTo(squares / (n - 1), within(1e-9));
    }
  }

  /** 400 samples made of 4 repeated ones hold the information of 4: refused, as for a model. */
  @Test
  void repeatedSamplesCountOnce() {
    Random random = new Random(3);
    float[] four = new float[4 * 9 * CHANNELS];
    for (int i = 0; i < four.length; i++) {
      four[i] = (float) random.nextGaussian();
    }
    DumpBuilder.Layer layer = new DumpBuilder().layer("bn").channelAxis(-1).gamma(1, 1, 1, 1).beta(0, 0, 0, 0)
        .movingMean(floats(STALE_MEAN)).movingVariance(floats(STALE_VARIANCE));
    for (int b = 0; b < 100; b++) {
      layer.input(new int[] {4, 3, 3, CHANNELS}, four);
    }
    Path out = dir.resolve("fixed.json");
    CliRun run = recalibrate(layer.up().writeTo(dir.resolve("four.json")), out);
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(run.err()).contains("bncheck: recalibrate refused: 320 calibration samples, of which 4 distinct, cannot"
        + " set the statistics of 4 channels");
    assertThat(out).doesNotExist();
  }

  /**
   * Held-out samples drawn around other means than the rest: the old statistics are off, but new
   * ones from the rest are farther still. The held-out positions are those a model's inputs of
   * 500 samples would hold out.
   */
  @Test
  void newStatisticsNoCloserToTheHeldOutSamplesAreRefusedUnlessForced() {
    int samples = 500;
    double[] index = new double[samples];
    for (int i = 0; i < samples; i++) {
      index[i] = i;
    }
    Tensor heldOut = DataSplit.of(Map.of("", new Tensor.Float64(new int[] {samples}, index)), 0.2).heldOut().get("");
    boolean[] held = new boolean[samples];
    for (int i = 0; i < heldOut.size(); i++) {
      held[(int) heldOut.get(i)] = true;
    }
    Random random = new Random(11);
    int row = 9 * CHANNELS;
    float[] data = new float[samples * row];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) ((held[i / row] ? 1 : 0) + random.nextGaussian());
    }
    Path dump = new DumpBuilder().layer("bn").channelAxis(-1).gamma(1, 1, 1, 1).beta(0, 0, 0, 0)
        .movingMean(0.5f, 0.5f, 0.5f, 0.5f).movingVariance(1, 1, 1, 1)
        .input(new int[] {samples, 3, 3, CHANNELS}, data).up().writeTo(dir.resolve("parts-differ.json"));
    Path out = dir.resolve("fixed.json");
    CliRun refused = recalibrate(dump, out);
    assertThat(refused.exitCode()).as(refused.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(refused.err()).startsWith("bncheck: recalibrate refused: the new statistics are no closer to the"
        + " held-out samples than the old ones");
    assertThat(out).doesNotExist();

    CliRun forced = recalibrate(dump, out, "--force");
    assertThat(forced.exitCode()).as(forced.err()).isZero();
    assertThat(forced.out()).contains("Written although the new statistics are no closer");
    assertThat(out).isRegularFile();
  }

  /** Activations 255 times what the statistics describe: BN011, as check says, and no new statistics. */
  @Test
  void dataUnlikeTheTrainingDataIsRefusedUnlessForced() {
    Path dump = dump("scaled", 500, 255, MEAN, VARIANCE);
    assertThat(CliRun.of("check", dump.toString()).out()).contains("[BN011]");
    Path out = dir.resolve("fixed.json");
    CliRun refused = recalibrate(dump, out);
    assertThat(refused.exitCode()).as(refused.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(refused.err()).startsWith("bncheck: recalibrate refused: [BN011] the calibration data does not look"
        + " like the data the model was trained on").contains("as if pixels in 0..255 reach a model trained on 0..1",
        "fix the preprocessing first");
    assertThat(out).doesNotExist();

    CliRun forced = recalibrate(dump, out, "--force");
    assertThat(forced.exitCode()).as(forced.err()).isZero();
    assertThat(forced.out()).contains("Written although [BN011]");
    assertThat(out).isRegularFile();
  }
}
