package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.TestFiles;
import dev.bncheck.load.array.NpyReader;
import dev.bncheck.model.Tensor;
import dev.bncheck.samples.mistakes.SampleTolerances;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecalibrateCommandTest {

  @TempDir Path dir;

  /** An outside tester's find: with nothing held out it said "verified on 64 held-out samples". */
  @Test
  void nothingHeldOutSaysTheSameSamplesVerify() {
    CliRun run = CliRun.of("recalibrate", "samples/keras-cnn-untrained", "--inputs", "samples/keras-cnn-inputs.npy",
        "--out", dir.resolve("fixed").toString(), "--held-out", "0", "--force");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("; verified on the same samples (--held-out 0).").doesNotContain("held-out samples.");
  }

  @Test
  void recalibratedUntrainedKerasModelPassesTheCheck() {
    Path out = dir.resolve("fixed");
    // its weights were never trained either: with new statistics it predicts one class for every
    // held-out sample, which without labels is refused as one-class data or a collapsed model
    CliRun unlabelled = CliRun.of("recalibrate", "samples/keras-cnn-untrained", "--inputs",
        "samples/keras-cnn-inputs.npy", "--out", out.toString());
    assertThat(unlabelled.exitCode()).as(unlabelled.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(unlabelled.err()).contains("recalibrate refused: with the new statistics every one of the 25 held-out"
        + " samples is predicted as class");
    assertThat(out).doesNotExist();
    CliRun run = CliRun.of("recalibrate", "samples/keras-cnn-untrained", "--inputs", "samples/keras-cnn-inputs.npy",
        "--labels", "samples/keras-cnn-labels.npy", "--out", out.toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("Recalibrated 2 of 2 BN layers", "verified on 25 held-out samples");
    assertThat(CliRun.of("check", out.toString(), "--inputs", "samples/keras-cnn-inputs.npy").exitCode()).isZero();
    assertThat(CliRun.of("check", "samples/keras-cnn-untrained", "--inputs", "samples/keras-cnn-inputs.npy")
        .exitCode()).isEqualTo(1);
  }

  /** A healthy model's statistics already describe the data: new ones are no better, and not written. */
  @Test
  void aHealthyModelIsNotRecalibratedUnlessForcedAndLabelsGiveAccuracyBeforeAndAfter() {
    Path out = dir.resolve("fixed");
    CliRun refused = CliRun.of("recalibrate", "samples/keras-cnn-trained", "--inputs", "samples/keras-cnn-inputs.npy",
        "--labels", "samples/keras-cnn-labels.npy", "--out", out.toString());
    assertThat(refused.exitCode()).as(refused.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(refused.err()).contains("bncheck: recalibrate refused: the model's statistics already describe the"
        + " held-out samples within chance", "nothing written (--force writes anyway)");
    assertThat(refused.out()).contains("BEFORE: MEAN SHIFT");
    assertThat(out).doesNotExist();
    assertThat(out.getParent()).isEmptyDirectory();

    CliRun forced = CliRun.of("recalibrate", "samples/keras-cnn-trained", "--inputs", "samples/keras-cnn-inputs.npy",
        "--labels", "samples/keras-cnn-labels.npy", "--out", out.toString(), "--force");
    assertThat(forced.exitCode()).as(forced.err()).isZero();
    assertThat(forced.out()).contains("Held-out accuracy at batch size 64: 100% before, 100% after;"
        + " at batch size 1: 100% before, 100% after.")
        .contains("(consistent)", "Written although the model's statistics already describe the held-out samples within chance");
    assertThat(out).isDirectory();
  }

  /** 48 samples made of 4 distinct ones say little about the population: the statistics are not rewritten. */
  @Test
  void fewDistinctSamplesAreRefused() throws IOException {
    int sampleBytes = 4 * 12 * 12 * 3;
    byte[] four = TestFiles.randomNpy(4, 12, 12, 3);
    byte[] sixty = TestFiles.randomNpy(60, 12, 12, 3);
    int header = sixty.length - 60 * sampleBytes;
    for (int i = 0; i < 60; i++) {
      System.arraycopy(four, four.length - 4 * sampleBytes + (i % 4) * sampleBytes, sixty, header + i * sampleBytes,
          sampleBytes);
    }
    Path data = dir.resolve("four.npy");
    Files.write(data, sixty);
    Path out = dir.resolve("fixed");
    CliRun run = CliRun.of("recalibrate", "samples/keras-cnn-untrained", "--inputs", data.toString(),
        "--out", out.toString());
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(run.err()).contains("48 calibration samples, of which 4 distinct, cannot set the statistics of 24"
        + " channels");
    assertThat(out).doesNotExist();
  }

  /**
   * Statistics recomputed on one class only make a healthy classifier worse on mixed held-out
   * samples: refused, as the accuracy recalibrate prints itself says (it once wrote the model).
   */
  @Test
  void statisticsThatLowerTheHeldOutAccuracyAreRefused() throws IOException {
    String data = "samples/tf-bn-mistakes/tf1-data/";
    Tensor.Float32 inputs = (Tensor.Float32) NpyReader.read(Path.of(data + "inputs.npy"));
    Tensor labels = NpyReader.read(Path.of(data + "labels.npy"));
    int row = 8 * 8;
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      if (labels.get(i) == 0) {
        order.add(i);
      }
    }
    int oneClass = order.size();
    for (int i = 0; order.size() < oneClass + 51; i++) {
      if (labels.get(i) != 0) {
        order.add(i);
      }
    }
    float[] x = new float[order.size() * row];
    float[] y = new float[order.size()];
    for (int k = 0; k < order.size(); k++) {
      System.arraycopy(inputs.data(), order.get(k) * row, x, k * row, row);
      y[k] = (float) labels.get(order.get(k));
    }
    Path xs = dir.resolve("one-class-then-mixed.npy");
    Path ys = dir.resolve("labels.npy");
    Files.write(xs, TestFiles.npy(x, order.size(), 8, 8, 1));
    Files.write(ys, TestFiles.npy(y, order.size()));
    double heldOut = 51.5 / order.size();
    Path out = dir.resolve("fixed");

    CliRun run = CliRun.of("recalibrate", "samples/tf-bn-mistakes/tf1-correct", "--inputs", xs.toString(),
        "--labels", ys.toString(), "--held-out", String.valueOf(heldOut), "--out", out.toString());

    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(run.err()).contains("bncheck: recalibrate refused: the held-out accuracy falls from");
    assertThat(out).doesNotExist();
  }

  /** The TF1 samples' inputs scaled by {@code scale}, as a pipeline that forgot its preprocessing would feed them. */
  private Path tf1InputsScaledBy(float scale) throws IOException {
    Tensor.Float32 inputs = (Tensor.Float32) NpyReader.read(Path.of("samples/tf-bn-mistakes/tf1-data/inputs.npy"));
    float[] scaled = inputs.data().clone();
    for (int i = 0; i < scaled.length; i++) {
      scaled[i] *= scale;
    }
    Path file = dir.resolve("inputs-times-" + scale + ".npy");
    Files.write(file, TestFiles.npy(scaled, inputs.shape()));
    return file;
  }

  /**
   * A healthy model fed its data scaled by 2: one factor alike in every channel, which a new domain
   * gives too, is refused unless forced (an outside tester's healthy model, recalibrated on data
   * scaled so, fell from 99% to 24% on correctly prepared data).
   */
  @Test
  void aModestScalingIsRefusedUnlessForced() throws IOException {
    Tensor.Float32 inputs = (Tensor.Float32) NpyReader.read(Path.of("samples/tf-bn-mistakes/keras-data/inputs.npy"));
    // BN011 is judged on the held-out samples, and needs four batches of them to see its channels'
    // tails: the 128 samples three times, each copy jittered by 1e-3 so that all are distinct
    int n = inputs.size();
    float[] doubled = new float[3 * n];
    java.util.SplittableRandom random = new java.util.SplittableRandom(3);
    for (int i = 0; i < doubled.length; i++) {
      doubled[i] = (float) (2 * inputs.data()[i % n] + 1e-3 * random.nextGaussian());
    }
    int[] shape = inputs.shape().clone();
    shape[0] *= 3;
    Path file = dir.resolve("keras-inputs-times-2.npy");
    Files.write(file, TestFiles.npy(doubled, shape));
    Path out = dir.resolve("fixed");
    CliRun refused = CliRun.of("recalibrate", "samples/tf-bn-mistakes/keras-healthy", "--inputs", file.toString(),
        "--held-out", "0.5", "--out", out.toString());
    assertThat(refused.exitCode()).as(refused.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(refused.err()).contains("bncheck: recalibrate refused: [BN011]", "Two causes fit one factor alike",
        "if the data really comes from a new domain (fine-tuning data for frozen BN layers), or is the training data"
            + " and the statistics lag the weights, --force writes them");
    assertThat(out).doesNotExist();
  }

  /**
   * Stale statistics and data scaled by 255: check names the data (BN011), and recalibrating would
   * carry the wrong preprocessing into the model, however much the held-out accuracy (on data
   * scaled alike) rises. An outside tester got the model written.
   */
  @Test
  void dataUnlikeTheTrainingDataIsRefusedUnlessForced() throws IOException {
    String model = "samples/tf-bn-mistakes/tf1-stale-decay";
    Path scaled = tf1InputsScaledBy(255);
    Path out = dir.resolve("fixed");
    CliRun refused = CliRun.of("recalibrate", model, "--inputs", scaled.toString(), "--out", out.toString());
    assertThat(refused.exitCode()).as(refused.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(refused.err()).startsWith("bncheck: recalibrate refused: [BN011] the calibration data does not look like"
        + " the data the model was trained on: already at the first BN layer bn1, 8 of 8 channels are off")
        .contains("fix the preprocessing first", "nothing written (--force writes anyway)");
    assertThat(out).doesNotExist();
    assertThat(out.getParent()).isDirectoryNotContaining(p -> p.getFileName().toString().contains("fixed"));

    CliRun forced = CliRun.of("recalibrate", model, "--inputs", scaled.toString(), "--out", out.toString(), "--force");
    assertThat(forced.exitCode()).as(forced.err()).isZero();
    assertThat(forced.out()).contains("Written although [BN011]", "Wrote " + out);
    assertThat(out).isDirectory();
  }

  /**
   * Statistics never updated (BN001) hide what the data was prepared like: BN011 does not fire,
   * and the statistics are rewritten, which is what recalibrate is for.
   */
  @Test
  void neverUpdatedStatisticsAreRewrittenWhateverTheScale() throws IOException {
    Path out = dir.resolve("fixed");
    CliRun run = CliRun.of("recalibrate", "samples/tf-bn-mistakes/tf1-update-ops-not-run", "--inputs",
        tf1InputsScaledBy(255).toString(), "--out", out.toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.err()).doesNotContain("BN011");
    assertThat(out).isDirectory();
  }

  /** A model whose update ops never ran recovers the correct model's accuracy at batch size 1. */
  @Test
  void neverUpdatedTf1ModelRecoversTheCorrectModelsAccuracy() {
    String data = "samples/tf-bn-mistakes/tf1-data/";
    CliRun broken = CliRun.of("recalibrate", "samples/tf-bn-mistakes/tf1-no-control-deps", "--inputs", data + "inputs.npy",
        "--labels", data + "labels.npy", "--out", dir.resolve("fixed").toString());
    CliRun correct = CliRun.of("recalibrate", "samples/tf-bn-mistakes/tf1-correct", "--inputs", data + "inputs.npy",
        "--labels", data + "labels.npy", "--out", dir.resolve("reference").toString(), "--force");
    assertThat(broken.exitCode()).as(broken.err()).isZero();
    double[] brokenAccuracy = batchSizeOneAccuracy(broken.out());
    double[] correctAccuracy = batchSizeOneAccuracy(correct.out());
    assertThat(brokenAccuracy[0]).isLessThan(60);
    Matcher heldOut = Pattern.compile("verified on (\\d+) held-out samples").matcher(broken.out());
    assertThat(heldOut.find()).as(broken.out()).isTrue();
    assertThat(brokenAccuracy[1]).isCloseTo(correctAccuracy[0],
        within(SampleTolerances.recalibratedAccuracyPoints(Integer.parseInt(heldOut.group(1)))));
  }

  /** Held-out accuracy at batch size 1, before and after, in percent. */
  private static double[] batchSizeOneAccuracy(String out) {
    Matcher m = Pattern.compile("at batch size 1: ([0-9.]+)% before, ([0-9.]+)% after\\.").matcher(out);
    assertThat(m.find()).as(out).isTrue();
    return new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))};
  }

  @Test
  void existingOutputNeedsForceAndADumpTakesADumpOfActivations() throws IOException {
    Path out = Files.createDirectories(dir.resolve("exists"));
    CliRun refused = CliRun.of("recalibrate", "samples/keras-cnn-untrained", "--inputs", "samples/keras-cnn-inputs.npy",
        "--out", out.toString());
    assertThat(refused.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(refused.err()).contains("exists; pass --force to replace it");
    CliRun dumpWithModelInputs = CliRun.of("recalibrate", "samples/healthy.json", "--inputs",
        "samples/keras-cnn-inputs.npy", "--out", dir.resolve("x").toString());
    assertThat(dumpWithModelInputs.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(dumpWithModelInputs.err()).contains("not calibration data bncheck can read");
    assertThat(CliRun.of("recalibrate", "samples/keras-cnn-untrained", "--inputs", "samples/keras-cnn-inputs.npy",
        "--out", dir.resolve("y").toString(), "--layers", "nothing*").exitCode()).isEqualTo(ExitCodes.USAGE);
  }
  /** The report has text, JSON and Markdown only; -o writes it atomically, and a refused run's report says why. */
  @Test
  void theReportGoesToOutputInTheFormatsARecalibrationHas() throws java.io.IOException {
    Path out = dir.resolve("fixed.json");
    CliRun html = CliRun.of("recalibrate", "samples/stale.json", "--out", out.toString(), "--format", "html");
    assertThat(html.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(html.err()).contains("expected one of text, json, markdown, got 'html'");

    Path report = dir.resolve("report.json");
    CliRun refused = CliRun.of("recalibrate", "samples/stale.json", "--out", out.toString(), "--format", "json", "-o",
        report.toString());
    assertThat(refused.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(refused.out()).isEmpty();
    assertThat(refused.err()).contains("bncheck: recalibrate refused: layer block1/bn: 26 calibration samples");
    var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(report.toFile());
    assertThat(json.path("outcome").asText()).isEqualTo("refused");
    assertThat(json.path("out").isNull()).isTrue();
    assertThat(json.path("refusals").get(0).asText()).startsWith("layer block1/bn: 26 calibration samples");
    assertThat(json.path("layers")).hasSize(3);
    assertThat(out).doesNotExist();
  }
  /** --layers that names no layer is a usage error, for a dump and for a model, before anything is written. */
  @Test
  void layersThatMatchNothingAreAUsageError() {
    Path out = dir.resolve("fixed");
    CliRun dump = CliRun.of("recalibrate", "samples/stale.json", "--layers", "nothing*", "--out", out.toString());
    assertThat(dump.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(dump.err()).isEqualTo("bncheck: error: --layers nothing*: matches no layer with calibration data\n");
    CliRun model = CliRun.of("recalibrate", "samples/keras-cnn-untrained", "--inputs", "samples/keras-cnn-inputs.npy",
        "--layers", "nothing*", "--out", out.toString(), "--force");
    assertThat(model.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(model.err()).isEqualTo("bncheck: error: --layers nothing*: matches no BN layer\n");
    assertThat(out).doesNotExist();
  }
  /**
   * -o is checked like check's outputs: never an input, and never the file --out writes (the report
   * would have replaced the fixed dump).
   */
  @Test
  void theReportNeitherReplacesAnInputNorTheFixedModel() {
    Path out = dir.resolve("fixed.json");
    CliRun input = CliRun.of("recalibrate", "samples/stale.json", "--out", out.toString(), "-o", "samples/stale.json");
    assertThat(input.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(input.err()).startsWith("bncheck: error: --output samples/stale.json is an input of this run; bncheck never"
        + " overwrites its inputs");
    CliRun same = CliRun.of("recalibrate", "samples/stale.json", "--out", out.toString(), "-o", out.toString(),
        "--force");
    assertThat(same.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(same.err()).startsWith("bncheck: error: --out " + out + " and --output " + out + " name the same file");
    assertThat(out).doesNotExist();
  }
}
