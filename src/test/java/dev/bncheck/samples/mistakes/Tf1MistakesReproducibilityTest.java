package dev.bncheck.samples.mistakes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.samples.mistakes.Tf1MistakesGenerator.Data;
import dev.bncheck.samples.mistakes.Tf1MistakesGenerator.Variant;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Regenerating the TF1 samples in a temporary folder gives the committed ones, compared by what
 * holds on any CPU (SampleTolerances): the held-out data and each {@code saved_model.pb} byte for
 * byte (written by seeded Java code and sorted protobuf maps), bncheck's verdict exactly, and the
 * measured accuracies and trained variables within tolerances. The checkpoint's bytes are not
 * compared: TensorFlow's kernels round differently on another CPU, and training amplifies it.
 * {@code scripts/make-tf1-mistakes.sh --verify} runs this test.
 */
class Tf1MistakesReproducibilityTest {

  private static final Path TABLE = BnCheckRun.DATA_DIR.resolve("README.md");

  @TempDir
  static Path dir;

  private static Data train;
  private static Data test;

  @BeforeAll
  static void datasets() {
    train = Tf1MistakesGenerator.dataset(Tf1MistakesGenerator.TRAIN_N, Tf1MistakesGenerator.TRAIN_SEED);
    test = Tf1MistakesGenerator.dataset(Tf1MistakesGenerator.TEST_N, Tf1MistakesGenerator.TEST_SEED);
  }

  @Test
  void heldOutDataIsRewrittenByteForByte() throws IOException {
    Path out = dir.resolve("tf1-data");
    Tf1MistakesGenerator.writeHeldOutData(out, test);
    for (String file : new String[] {"inputs.npy", "labels.npy"}) {
      assertThat(out.resolve(file)).as(file).hasSameBinaryContentAs(BnCheckRun.DATA_DIR.resolve(file));
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Variant.class)
  void retrainingGivesTheCommittedGraphVerdictAccuraciesAndWeights(Variant v) {
    Path out = dir.resolve(v.dir);
    float[] trained = Tf1MistakesGenerator.trainAndExport(v, train, test, out);
    double[] accuracy = Tf1MistakesGenerator.accuracy(out, test);
    BnCheckRun check = BnCheckRun.check(out);
    String[] row = MeasuredTable.row(TABLE, v.dir);

    assertThat(out.resolve("saved_model.pb")).hasSameBinaryContentAs(v.path().resolve("saved_model.pb"));
    assertThat(check.exitCode() + " | " + check.summary()).as(check.stderr()).isEqualTo(row[6] + " | " + row[7]);
    assertThat((double) trained[0]).as("final loss").isCloseTo(Double.parseDouble(row[2]),
        within(SampleTolerances.RETRAINED_LOSS));
    assertThat((double) trained[1]).as("train-mode accuracy").isCloseTo(Double.parseDouble(row[3]),
        within(SampleTolerances.RETRAINED_ACCURACY));
    assertThat(accuracy[0]).as("accuracy at batch 64").isCloseTo(Double.parseDouble(row[4]),
        within(SampleTolerances.RETRAINED_ACCURACY));
    assertThat(accuracy[1]).as("accuracy at batch 1").isCloseTo(Double.parseDouble(row[5]),
        within(SampleTolerances.RETRAINED_ACCURACY));

    Map<String, float[]> retrained = SavedModelVariables.read(out);
    Map<String, float[]> committed = SavedModelVariables.read(v.path());
    assertThat(retrained.keySet()).isEqualTo(committed.keySet());
    committed.forEach((name, expected) -> {
      if (!name.endsWith("/Momentum")) {
        assertThat(relativeDistance(retrained.get(name), expected)).as(name)
            .isLessThanOrEqualTo(SampleTolerances.RETRAINED_WEIGHTS_RELATIVE);
      }
    });
  }

  /** {@code ||a - b|| / ||b||}, and 0 when both are zero. */
  private static double relativeDistance(float[] a, float[] b) {
    assertThat(a).hasSameSizeAs(b);
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < b.length; i++) {
      double d = (double) a[i] - b[i];
      diff += d * d;
      norm += (double) b[i] * b[i];
    }
    return diff == 0 ? 0 : Math.sqrt(diff / norm);
  }
}
