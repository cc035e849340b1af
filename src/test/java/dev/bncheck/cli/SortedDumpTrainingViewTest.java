package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dump whose training view ran on the first batches of data sorted by class (what the exporters
 * recorded before they drew its samples at random). Two healthy CNNs of an outside tester got
 * BN003 errors on such dumps: batches of one class normalize the next layer unlike training's mixed
 * batches (its second layer's training view was 3.8 times narrower than its statistics, the
 * inference view within them). Here 1,024 rows of 4 classes (means -1.5 to 1.5, deviation 1) in
 * batches of 32; the second layer's inputs at inference are the first's standardized with the
 * population's statistics, as its moving statistics (0.01, 0.98) describe, and its training view is
 * made 3.6 times narrower, as the tester's was. Judged on that view, BN003 is an error.
 */
class SortedDumpTrainingViewTest {

  @TempDir Path dir;

  @Test
  void aTrainingViewOfTheFirstBatchesOfSortedDataIsLeftOut() throws IOException {
    Path dump = write(row -> row < 256);
    CliRun run = CliRun.of("check", dump.toString(), "--training-view", "always", "--format", "json");
    JsonNode report = new ObjectMapper().readTree(run.out());
    assertThat(run.exitCode()).as(run.out()).isEqualTo(ExitCodes.PASS);
    assertThat(report.at("/data/batches").asText()).startsWith("as recorded in the dump; its training view (every"
        + " BN layer in training mode) on 256 samples is left out: its first layer's means differ from those of all"
        + " 1024 samples by more than chance allows a sample of 256");
    assertThat(report.at("/layers/1/training_view_metrics").isNull()).isTrue();
  }

  /** Rows drawn one in four across the classes: a sample, kept and judged on (the error shows it is). */
  @Test
  void aTrainingViewOfRowsFromEveryClassIsKept() throws IOException {
    CliRun run = CliRun.of("check", write(row -> row % 4 == 0).toString(), "--training-view", "always", "--format",
        "json");
    JsonNode report = new ObjectMapper().readTree(run.out());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(report.at("/data/batches").asText()).isEqualTo("as recorded in the dump, with its training view (every"
        + " BN layer in training mode) on 256 samples");
    assertThat(report.at("/layers/1/training_view_metrics").isNull()).isFalse();
  }

  /** The dump, with the rows {@code inTrainingView} picks (256 of them, in file order) as the training view. */
  private Path write(IntPredicate inTrainingView) throws IOException {
    int rows = 1024;
    int channels = 4;
    double[][] x = new double[rows][channels];
    SplittableRandom random = new SplittableRandom(3);
    for (int r = 0; r < rows; r++) {
      int classOfRow = r / 256;
      for (int c = 0; c < channels; c++) {
        x[r][c] = classOfRow - 1.5 + random.nextGaussian();
      }
    }
    double populationVariance = 1.25 + 1;
    StringBuilder first = new StringBuilder();
    StringBuilder second = new StringBuilder();
    StringBuilder firstTraining = new StringBuilder();
    StringBuilder secondTraining = new StringBuilder();
    int[] picked = java.util.stream.IntStream.range(0, rows).filter(inTrainingView).toArray();
    for (int b = 0; b < rows / 32; b++) {
      float[] in = new float[32 * channels];
      float[] standardized = new float[32 * channels];
      for (int i = 0; i < 32; i++) {
        for (int c = 0; c < channels; c++) {
          in[i * channels + c] = (float) x[b * 32 + i][c];
          standardized[i * channels + c] = (float) (x[b * 32 + i][c] / Math.sqrt(populationVariance));
        }
      }
      append(first, in);
      append(second, standardized);
    }
    for (int b = 0; b < picked.length / 32; b++) {
      float[] in = new float[32 * channels];
      for (int i = 0; i < 32; i++) {
        for (int c = 0; c < channels; c++) {
          in[i * channels + c] = (float) x[picked[b * 32 + i]][c];
        }
      }
      append(firstTraining, in);
      append(secondTraining, standardizedByItsOwnStatistics(in, channels, Math.sqrt(1 / 3.6)));
    }
    String layers = layer("bn1", 0, populationVariance, first, firstTraining) + ","
        + layer("bn2", 0.01, 0.98, second, secondTraining);
    return Files.writeString(dir.resolve("sorted.bn.json"), "{\"format\":\"bncheck-dump\",\"version\":1,\"source\":"
        + "{\"framework\":\"pytorch\"},\"layers\":[" + layers + "]}");
  }

  private static float[] standardizedByItsOwnStatistics(float[] batch, int channels, double scale) {
    float[] out = new float[batch.length];
    int n = batch.length / channels;
    for (int c = 0; c < channels; c++) {
      double sum = 0;
      double sumSq = 0;
      for (int i = 0; i < n; i++) {
        sum += batch[i * channels + c];
        sumSq += batch[i * channels + c] * batch[i * channels + c];
      }
      double mean = sum / n;
      double sd = Math.sqrt(sumSq / n - mean * mean);
      for (int i = 0; i < n; i++) {
        out[i * channels + c] = (float) (scale * (batch[i * channels + c] - mean) / sd);
      }
    }
    return out;
  }

  private static String layer(String name, double mean, double variance, CharSequence inputs, CharSequence training) {
    String four = "[" + mean + "," + mean + "," + mean + "," + mean + "]";
    String vars = "[" + variance + "," + variance + "," + variance + "," + variance + "]";
    return "{\"name\":\"" + name + "\",\"channel_axis\":1,\"epsilon\":1e-5,\"momentum\":0.1,"
        + "\"momentum_convention\":\"pytorch\",\"gamma\":[1,1,1,1],\"beta\":[0,0,0,0],\"moving_mean\":" + four
        + ",\"moving_variance\":" + vars + ",\"inputs\":[" + inputs + "],\"training_inputs\":[" + training + "]}";
  }

  private static void append(StringBuilder out, float[] batch) {
    ByteBuffer bytes = ByteBuffer.allocate(batch.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(batch);
    out.append(out.length() == 0 ? "" : ",").append("{\"dtype\":\"float32\",\"shape\":[32,4],\"base64\":\"")
        .append(Base64.getEncoder().encodeToString(bytes.array())).append("\"}");
  }
}
