package dev.bncheck.load.dump;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Recognises dump files without parsing them. */
final class DumpFiles {

  private DumpFiles() {}

  /** A regular file named *.json, or one whose first non-blank byte opens a JSON object. */
  static boolean looksLikeJson(Path input) {
    if (!Files.isRegularFile(input)) {
      return false;
    }
    if (input.getFileName().toString().endsWith(".json")) {
      return true;
    }
    try (InputStream in = Files.newInputStream(input)) {
      int b;
      do {
        b = in.read();
      } while (b == ' ' || b == '\n' || b == '\r' || b == '\t');
      return b == '{';
    } catch (IOException e) {
      return false;
    }
  }
}
