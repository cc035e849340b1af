package dev.bncheck.load.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/** The Keras version metadata.json of a .keras archive records, for the report; informative only. */
final class KerasMetadataVersion {

  private static final ObjectMapper JSON = new ObjectMapper();

  private KerasMetadataVersion() {}

  /** The version, or null when the metadata does not give one (nothing bncheck needs is in it). */
  static String of(byte[] metadata) {
    try {
      JsonNode version = JSON.readTree(metadata).path("keras_version");
      return version.isTextual() && version.asText().length() <= 40 ? version.asText() : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
