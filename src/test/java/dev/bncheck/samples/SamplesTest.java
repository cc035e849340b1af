package dev.bncheck.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Keeps samples/ equal to what the generator makes. Regenerate with
 * {@code scripts/generate-samples.sh} (which sets {@code -Dbncheck.regenerate=true}).
 */
class SamplesTest {

  static final Path SAMPLES = Path.of("samples");

  @Test
  void committedSamplesAreExactlyWhatTheGeneratorMakes() throws IOException {
    Map<String, String> generated = SampleGenerator.generate();
    if (Boolean.getBoolean("bncheck.regenerate")) {
      Files.createDirectories(SAMPLES);
      for (var e : generated.entrySet()) {
        Files.writeString(SAMPLES.resolve(e.getKey()), e.getValue());
      }
    }
    for (var e : generated.entrySet()) {
      assertThat(Files.readString(SAMPLES.resolve(e.getKey())))
          .as("samples/%s is stale; run scripts/generate-samples.sh", e.getKey())
          .isEqualTo(e.getValue());
    }
  }

  @Test
  void generatorIsDeterministic() {
    assertThat(SampleGenerator.generate()).isEqualTo(SampleGenerator.generate());
  }
}
