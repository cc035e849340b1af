package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A Keras model whose first BN layer normalizes the model's input itself: the tensor bncheck
 * feeds is the one it reduces, and, with a NaN in the data, the one it fetches whole
 * (scripts/make_keras_input_bn.py made the fixture).
 */
class InputBnTest {

  private static final String DIR = "src/test/resources/keras-input-bn/";

  private static JsonNode check(String data) throws IOException {
    CliRun run = CliRun.of("check", DIR + "model", "--inputs", DIR + data, "--format", "json");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.PASS);
    return new ObjectMapper().readTree(run.out());
  }

  private static List<String> findings(JsonNode report) {
    List<String> out = new ArrayList<>();
    report.get("findings").forEach(f -> out.add(f.get("code").asText() + " " + f.get("layer").asText()));
    return out;
  }

  @Test
  void aLayerOnTheModelsInputIsCalibratedAndSelfChecked() throws IOException {
    JsonNode report = check("data.npy");
    assertThat(findings(report)).isEmpty();
    for (JsonNode layer : report.get("layers")) {
      assertThat(layer.at("/calibration/values_per_channel").asLong()).isEqualTo(100);
      assertThat(layer.at("/calibration/self_check/passed").asBoolean()).isTrue();
      // its moving statistics are the data's own
      assertThat(Math.abs(layer.at("/metrics/worst_standardized_mean_shift/value").asDouble())).isLessThan(1e-4);
    }
  }

  @Test
  void aNanInTheModelsInputIsCountedWhereItEntersAndDownstream() throws IOException {
    JsonNode report = check("nan.npy");
    assertThat(findings(report)).containsExactly("BN010 input_bn", "BN010 bn2");
    // shuffled, the sample with the NaN is among the first batch's samples that also run alone: NaN
    // both ways is no dependence on the batch (it was reported as BN005 "differs by Infinity")
    assertThat(report.toString()).doesNotContain("Infinity");
  }

  @Test
  void aNanInTheFileOrderIsCountedTheSame() throws IOException {
    CliRun run = CliRun.of("check", DIR + "model", "--inputs", DIR + "nan.npy", "--format", "json",
        "--batch-order", "file");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.PASS);
    assertThat(findings(new ObjectMapper().readTree(run.out()))).containsExactly("BN010 input_bn", "BN010 bn2");
  }
}
