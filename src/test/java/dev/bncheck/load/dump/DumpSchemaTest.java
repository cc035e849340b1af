package dev.bncheck.load.dump;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The published schema accepts every sample and rejects what the reader rejects structurally. */
class DumpSchemaTest {

  static final ObjectMapper JSON = new ObjectMapper();

  static JsonSchema schema() throws IOException {
    try (InputStream in = Files.newInputStream(Path.of("docs/dump-format.schema.json"))) {
      return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
    }
  }

  @Test
  void everySampleConformsToTheSchema() throws IOException {
    JsonSchema schema = schema();
    try (Stream<Path> samples = Files.list(Path.of("samples"))) {
      for (Path sample : samples.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        assertThat(schema.validate(JSON.readTree(sample.toFile()))).as(sample.toString()).isEmpty();
      }
    }
  }

  @Test
  void schemaRejectsStructuralMistakes() throws IOException {
    JsonSchema schema = schema();
    String ok = "{\"format\":\"bncheck-dump\",\"version\":1,\"layers\":[{\"name\":\"bn\",\"channel_axis\":1,"
        + "\"epsilon\":1e-3,\"moving_mean\":[0,\"NaN\"],\"moving_variance\":{\"dtype\":\"float32\",\"shape\":[2],"
        + "\"base64\":\"AAAAAAAAAAA=\"}}]}";
    assertThat(schema.validate(tree(ok))).isEmpty();
    String trainingView = ",\"training_inputs\":[{\"dtype\":\"float32\",\"shape\":[1,2],\"data\":[1,2]}]}]}";
    assertThat(schema.validate(tree(ok.replace("}]}", trainingView)))).isEmpty();
    assertThat(schema.validate(tree(ok.replace("}]}", trainingView.replace("[1,2]}", "[1,2]},7"))))).isNotEmpty();
    assertThat(schema.validate(tree(ok.replace("\"layers\"", "\"layer\"")))).isNotEmpty();
    assertThat(schema.validate(tree(ok.replace("\"channel_axis\":1,", "")))).isNotEmpty();
    assertThat(schema.validate(tree(ok.replace("float32", "int8")))).isNotEmpty();
    assertThat(schema.validate(tree(ok.replace("\"NaN\"", "\"nan\"")))).isNotEmpty();
    assertThat(schema.validate(tree(ok.replace("\"epsilon\":1e-3", "\"epsilon\":1e-3,\"momentum_convention\":\"keras\""))))
        .isNotEmpty();
    String without = "}],\"batch_statistics_layers\":[ENTRY]}";
    assertThat(schema.validate(tree(ok.replace("}]}", without.replace("ENTRY",
        "{\"name\":\"head\",\"reason\":\"track_running_stats=False\"}"))))).isEmpty();
    for (String entry : List.of("{\"name\":\"head\"}", "{\"reason\":\"x\"}", "{\"name\":\"\",\"reason\":\"x\"}",
        "{\"name\":\"head\",\"reason\":7}", "{\"name\":\"head\",\"reason\":\"x\",\"epsilon\":1}", "\"head\"")) {
      assertThat(schema.validate(tree(ok.replace("}]}", without.replace("ENTRY", entry))))).as(entry).isNotEmpty();
    }
  }

  private static JsonNode tree(String json) throws IOException {
    return JSON.readTree(json);
  }
}
