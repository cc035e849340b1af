package dev.bncheck.load.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The Keras files scripts/make_keras_checkpoints.py writes, and the values Keras held for them. */
final class KerasFixtures {

  static final Path DIR = Path.of("src/test/resources/keras-files");

  private KerasFixtures() {}

  static Path file(String name) {
    return DIR.resolve(name);
  }

  /** expected.json: models → NAME → layers → LAYER → axis, epsilon, momentum, ..., as Keras held them. */
  static JsonNode expected() {
    return expected("expected.json");
  }

  static JsonNode expected(String name) {
    try {
      return new ObjectMapper().readTree(DIR.resolve(name).toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
