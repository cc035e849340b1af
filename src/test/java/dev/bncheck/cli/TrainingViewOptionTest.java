package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * When the training view runs: by default only if a layer's statistics are off in the inference
 * view with no other finding to explain it (it can only move a BN003 finding, never raise one on
 * a consistent model).
 */
class TrainingViewOptionTest {

  /** How many layers of the JSON report have training-view metrics, and the finding codes. */
  private static String check(String model, String... options) throws IOException {
    return checkOn(model, "samples/keras-cnn-inputs.npy", options);
  }

  private static String checkOn(String model, String data, String... options) throws IOException {
    List<String> args = new ArrayList<>(List.of("check", "samples/" + model, "--inputs", data, "--format", "json"));
    args.addAll(List.of(options));
    CliRun run = CliRun.of(args.toArray(new String[0]));
    JsonNode report = new ObjectMapper().readTree(run.out());
    int withView = 0;
    for (JsonNode layer : report.get("layers")) {
      withView += layer.get("training_view_metrics").isNull() ? 0 : 1;
    }
    List<String> codes = new ArrayList<>();
    report.get("findings").forEach(f -> codes.add(f.get("code").asText()));
    return run.exitCode() + " " + withView + "/" + report.get("layers").size() + " " + codes.stream().distinct().toList();
  }

  @Test
  void consistentModelSkipsTheTrainingViewUnlessAskedFor() throws IOException {
    assertThat(check("keras-cnn-trained")).isEqualTo("0 0/2 []");
    assertThat(check("keras-cnn-trained", "--training-view", "always")).isEqualTo("0 2/2 []");
  }

  @Test
  void layersWhoseStatisticsAreOffWithoutOtherExplanationGetTheTrainingViewInASecondPass() throws IOException {
    // BN frozen after training on other data: bn1's statistics are off for the new data (BN003)
    String transfer = "samples/tf-bn-mistakes/keras-data/transfer-inputs.npy";
    assertThat(checkOn("tf-bn-mistakes/keras-frozen-transfer", transfer)).startsWith("1 ").contains("BN003")
        .doesNotStartWith("1 0/");
    assertThat(checkOn("tf-bn-mistakes/keras-frozen-transfer", transfer, "--training-view", "never"))
        .startsWith("1 0/").contains("BN003");
    assertThat(checkOn("tf-bn-mistakes/keras-frozen-transfer", transfer, "--training-view-samples", "0"))
        .startsWith("1 0/");
  }

  @Test
  void layersNeverUpdatedNeedNoTrainingView() throws IOException {
    // BN001 on every layer: BN003 gives way to it, so the training view could change nothing
    assertThat(check("keras-cnn-untrained")).isEqualTo("1 0/2 [BN001, BN004]");
    assertThat(check("keras-cnn-untrained", "--training-view", "always")).isEqualTo("1 2/2 [BN001, BN004]");
  }

  @Test
  void unknownWhenIsAUsageError() {
    CliRun run = CliRun.of("check", "samples/keras-cnn-trained", "--training-view", "sometimes");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).contains("expected auto, always, never; got 'sometimes'");
  }
}
