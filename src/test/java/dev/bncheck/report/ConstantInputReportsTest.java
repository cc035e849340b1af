package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A layer whose calibration input is constant (a ReLU that never fires on the data) while its
 * moving mean is not: training mode outputs exactly beta, so BN004's relative difference has
 * nothing to be relative to. Every report says "constant input" and none prints Infinity or NaN.
 */
class ConstantInputReportsTest {

  @TempDir Path temp;

  private String run(String format) throws Exception {
    String zeros = String.join(", ", Collections.nCopies(32, "0"));
    String batch = "{\"dtype\": \"float32\", \"shape\": [16, 2], \"data\": [" + zeros + "]}";
    Path dump = Files.writeString(temp.resolve("constant.json"), """
        {"format": "bncheck-dump", "version": 1, "source": {"framework": "keras"},
         "layers": [{"name": "relu/bn", "channel_axis": -1, "epsilon": 0.001,
           "moving_mean": {"dtype": "float32", "shape": [2], "data": [3, -1]},
           "moving_variance": {"dtype": "float32", "shape": [2], "data": [1, 1]},
           "inputs": [%s, %s]}]}
        """.formatted(batch, batch));
    StringWriter out = new StringWriter();
    int exit = Main.commandLine(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true))
        .execute("check", dump.toString(), "--format", format);
    assertThat(exit).as("exit code").isEqualTo(1);
    return out.toString();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"text", "markdown", "junit", "html"})
  void reportsForPeopleNameTheConstantInputAndPrintNoInfinity(String format) throws Exception {
    String report = run(format);
    assertThat(report).contains("BN004").contains("the calibration input is constant")
        .doesNotContain("Infinity").doesNotContain("NaN");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"text", "markdown", "html"})
  void modeRmsColumnReadsConstantInput(String format) throws Exception {
    assertThat(run(format)).contains("constant input");
  }

  @Test
  void jsonFindingHasOnlyFiniteEvidenceAndCountsTheConstantChannels() throws Exception {
    JsonNode json = new ObjectMapper().readTree(run("json"));
    JsonNode bn004 = null;
    for (JsonNode finding : json.path("findings")) {
      if (finding.path("code").asText().equals("BN004")) {
        bn004 = finding;
      }
    }
    assertThat(bn004).as("BN004 finding").isNotNull();
    assertThat(bn004.toString()).doesNotContain("Infinity").doesNotContain("NaN");
    assertThat(bn004.path("message").asText()).contains("in 2 of 2 channels");
    assertThat(bn004.toString()).contains("\"constant_input_channels\"");
  }
}
