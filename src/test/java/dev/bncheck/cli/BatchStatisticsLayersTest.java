package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.DumpBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A dump's layers without running statistics (PyTorch's track_running_stats=False) fail the check
 * with BN002: they normalize with each batch's own statistics in eval() too, and a dump that left
 * them out passed.
 */
class BatchStatisticsLayersTest {

  @TempDir Path dir;

  private static DumpBuilder healthyLayer() {
    return new DumpBuilder().source("framework", "pytorch").layer("features.bn").momentum(0.1, "pytorch")
        .numBatchesTracked(500).gamma(1.2f, 0.8f).beta(0.1f, -0.1f).movingMean(0.4f, -1.3f)
        .movingVariance(2.5f, 0.7f).up();
  }

  private static JsonNode check(Path dump) throws IOException {
    CliRun run = CliRun.of("check", dump.toString(), "--format", "json");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.FINDINGS);
    return new ObjectMapper().readTree(run.out());
  }

  private static List<JsonNode> errors(JsonNode report) {
    List<JsonNode> out = new ArrayList<>();
    report.get("findings").forEach(f -> {
      if (f.get("severity").asText().equals("error")) {
        out.add(f);
      }
    });
    return out;
  }

  /**
   * A whole pickled module (torch.save(model)) records its BN layers' track_running_stats: the one
   * built with False has no tensors to be found by, and is reported as the dump's are
   * (scripts/make_pytorch_checkpoints.py, batch_statistics_module).
   */
  @Test
  void aWholeModuleCheckpointsLayerWithoutRunningStatisticsIsABn002Error() throws IOException {
    JsonNode report = check(Path.of("src/test/resources/pytorch/batch-statistics-module.pt"));
    List<JsonNode> errors = errors(report);
    assertThat(errors).extracting(f -> f.get("code").asText() + " " + f.get("layer").asText())
        .containsExactly("BN002 4");
    assertThat(errors.get(0).get("message").asText()).startsWith("the layer keeps no running statistics"
        + " (track_running_stats=False)");
    assertThat(report.get("unresolved_layers").get(0).get("node").asText())
        .isEqualTo("4 (torch.nn.modules.batchnorm.BatchNorm1d)");
    assertThat(report.get("layers")).hasSize(1);
  }

  @Test
  void aLayerWithoutRunningStatisticsBesideAHealthyOneIsABn002ErrorInPyTorchsWords() throws IOException {
    Path dump = healthyLayer().withoutRunningStatistics("head.bn", "track_running_stats=False")
        .writeTo(dir.resolve("mixed.json"));
    JsonNode report = check(dump);
    List<JsonNode> errors = errors(report);
    assertThat(errors).hasSize(1);
    JsonNode bn002 = errors.get(0);
    assertThat(bn002.get("code").asText()).isEqualTo("BN002");
    assertThat(bn002.get("layer").asText()).isEqualTo("head.bn");
    assertThat(bn002.get("message").asText()).isEqualTo("the layer keeps no running statistics"
        + " (track_running_stats=False), so it normalizes with each batch's own statistics even in eval(): outputs"
        + " depend on the other samples of the batch, and at batch size 1 a dense layer's collapse to beta (a"
        + " convolution's are normalized over the one image's positions)");
    assertThat(bn002.at("/evidence/reason").asText()).isEqualTo("track_running_stats=False");
    assertThat(bn002.get("fix").asText()).startsWith("construct the layer with track_running_stats=True")
        .contains("track_running_stats=True", "update_bn", "nn.InstanceNorm").doesNotContain("onnx");
    assertThat(report.at("/unresolved_layers/0/name").asText()).isEqualTo("head.bn");
    assertThat(report.at("/unresolved_layers/0/training_mode").asBoolean()).isTrue();
    assertThat(report.at("/layers/0/name").asText()).isEqualTo("features.bn");
  }

  @Test
  void aDumpOfLayersWithoutRunningStatisticsAloneStillFails() throws IOException {
    Path dump = new DumpBuilder().source("framework", "pytorch")
        .withoutRunningStatistics("bn", "track_running_stats=False").writeTo(dir.resolve("alone.json"));
    JsonNode report = check(dump);
    assertThat(errors(report)).extracting(f -> f.get("code").asText() + " " + f.get("layer").asText())
        .containsExactly("BN002 bn");
    CliRun text = CliRun.of("check", dump.toString());
    assertThat(text.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(text.out()).contains("[BN002]", "bn at batch_statistics_layers[0]: track_running_stats=False")
        .doesNotContain("No batch-normalization layers found");
  }

  /** Another framework's reason is shown as written, with a fix that names no PyTorch call. */
  @Test
  void anotherReasonGetsTheGeneralWording() throws IOException {
    Path dump = new DumpBuilder().withoutRunningStatistics("encoder/norm", "use_running_average=False")
        .writeTo(dir.resolve("flax.json"));
    JsonNode bn002 = errors(check(dump)).get(0);
    assertThat(bn002.get("message").asText()).isEqualTo("the layer keeps no running statistics"
        + " (use_running_average=False), so it normalizes with each batch's own statistics at inference as well:"
        + " outputs depend on the other samples of the batch, and at batch size 1 a dense layer's collapse to beta (a"
        + " convolution's are normalized over the one image's positions)");
    assertThat(bn002.get("fix").asText()).doesNotContain("torch", "track_running_stats");
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource(delimiter = '|', value = {
      "[7]|batch_statistics_layers[0]: expected a layer object {\"name\", \"reason\"}, got the number 7",
      "[{\"reason\":\"track_running_stats=False\"}]|batch_statistics_layers[0]: missing field \"name\"",
      "[{\"name\":[\"bn\"],\"reason\":\"x\"}]|batch_statistics_layers[0].name: expected a string, got an array",
      "[{\"name\":\"bn\",\"reason\":1}]|batch_statistics_layers[0].reason: expected a string, got the number 1",
      "\"bn\"|batch_statistics_layers: expected an array of layers, got the string \"bn\""})
  void aMalformedEntryIsAnInvalidInputNamingTheFileAndTheField(String entries, String expected) throws IOException {
    Path dump = Files.writeString(dir.resolve("bad.json"), "{\"format\":\"bncheck-dump\",\"version\":1,\"layers\":[],"
        + "\"batch_statistics_layers\":" + entries + "}");
    CliRun run = CliRun.of("check", dump.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).isEqualTo("bncheck: error: " + dump + ": " + expected + "\n");
    assertThat(run.out()).isEmpty();
  }
}
