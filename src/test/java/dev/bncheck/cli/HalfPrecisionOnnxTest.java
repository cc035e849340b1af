package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PyTorch CNN exported in half precision (model.half(); scripts/make_onnx_models.py --only
 * half): its float16 input is fed, what reaches each BN layer equals what PyTorch's half model
 * feeds it, the self-check allows half's round-off, and recalibrate writes float16 statistics.
 * check refused such models ("the model takes float16"), and its self-check would have called
 * half's round-off a bug.
 */
class HalfPrecisionOnnxTest {

  private static final Path DIR = Path.of("src/test/resources/onnx");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path temp;

  @Test
  void aHalfModelIsRunAndItsLayersSeeWhatPytorchFeedsThem() throws IOException {
    CliRun run = CliRun.of("check", DIR.resolve("half/cnn-eval-fp16.onnx").toString(), "--inputs",
        DIR.resolve("calibration.npy").toString(), "--format", "json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode report = JSON.readTree(run.out());
    assertThat(report.get("findings")).isEmpty();
    JsonNode references = JSON.readTree(DIR.resolve("half/references.json").toFile()).get("cnn-eval-fp16");
    for (JsonNode layer : report.get("layers")) {
      assertThat(layer.at("/calibration/self_check/passed").asBoolean()).as(layer.toString()).isTrue();
      JsonNode mine = layer.at("/metrics/per_channel");
      JsonNode theirs = references.get(layer.get("name").asText());
      for (int c = 0; c < theirs.get("mean").size(); c++) {
        // the convolutions before the layer round to half in either runtime, in their own order
        double variance = theirs.get("variance").get(c).asDouble();
        assertThat(mine.get("population_mean").get(c).asDouble())
            .isCloseTo(theirs.get("mean").get(c).asDouble(), within(5e-3 * Math.sqrt(variance)));
        assertThat(mine.get("population_variance").get(c).asDouble()).isCloseTo(variance, within(5e-3 * variance));
      }
    }
  }

  /**
   * The training view of a half model: the operators computing training mode in each BN's place
   * take half constants (float32 ones made ONNX Runtime refuse the copy, exit 3; an outside
   * tester's find). The first layer's input does not depend on any BN: its training view is its
   * inference view; the second's differs, normalized by batch statistics upstream.
   */
  @Test
  void aHalfModelHasATrainingView() throws IOException {
    CliRun run = CliRun.of("check", DIR.resolve("half/cnn-eval-fp16.onnx").toString(), "--inputs",
        DIR.resolve("calibration.npy").toString(), "--format", "json", "--training-view", "always");
    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode layers = JSON.readTree(run.out()).get("layers");
    JsonNode first = layers.get(0);
    JsonNode second = layers.get(1);
    for (int c = 0; c < first.at("/metrics/per_channel/population_mean").size(); c++) {
      assertThat(first.at("/training_view_metrics/per_channel/population_mean").get(c).asDouble())
          .isCloseTo(first.at("/metrics/per_channel/population_mean").get(c).asDouble(), within(1e-6));
    }
    double largest = 0;
    for (int c = 0; c < second.at("/metrics/per_channel/population_mean").size(); c++) {
      largest = Math.max(largest, Math.abs(second.at("/training_view_metrics/per_channel/population_mean").get(c)
          .asDouble() - second.at("/metrics/per_channel/population_mean").get(c).asDouble()));
    }
    assertThat(largest).isGreaterThan(0.01);
  }

  @Test
  void recalibrateRepairsAnUntrainedHalfModelWithHalfStatistics() throws IOException {
    Path fixed = temp.resolve("fixed.onnx");
    CliRun untrained = CliRun.of("inspect", DIR.resolve("half/cnn-untrained-fp16.onnx").toString());
    assertThat(untrained.out()).contains("[BN001] error bn1", "[BN001] error bn2");
    CliRun repair = CliRun.of("recalibrate", DIR.resolve("half/cnn-untrained-fp16.onnx").toString(), "--inputs",
        DIR.resolve("calibration.npy").toString(), "--out", fixed.toString(), "--force");
    assertThat(repair.exitCode()).as(repair.out() + repair.err()).isZero();
    CliRun after = CliRun.of("check", fixed.toString(), "--inputs", DIR.resolve("calibration.npy").toString());
    assertThat(after.exitCode()).as(after.out() + after.err()).isZero();
    assertThat(after.out()).doesNotContain("BN001").contains("float16");
  }

  /** A value half cannot hold would reach the model as infinity: refused, naming the input. */
  @Test
  void dataBeyondHalfsRangeIsRefused() throws IOException {
    float[] values = new float[2 * 3 * 8 * 8];
    values[5] = 1e5f;
    Path data = java.nio.file.Files.write(temp.resolve("big.npy"), dev.bncheck.TestFiles.npy(values,
        new int[] {2, 3, 8, 8}));
    CliRun run = CliRun.of("check", DIR.resolve("half/cnn-eval-fp16.onnx").toString(), "--inputs", data.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).isEqualTo("bncheck: error: --inputs: x: the model takes float16, whose largest value is"
        + " 65504, but the data holds 100000.0" + System.lineSeparator());
  }
}
