package dev.bncheck.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** How the parsers' fuzz tests read a damaged file: a clean, one-line input error is the only acceptable failure. */
public final class FuzzedFiles {

  /** Reads the file at a path, as one of bncheck's parsers does. */
  public interface Reader {
    void read(Path file) throws IOException;
  }

  private FuzzedFiles() {}

  public static void readExpectingNothingButAnInputError(byte[] content, String suffix, Reader reader)
      throws IOException {
    Path file = Files.createTempFile("fuzz", suffix);
    try {
      Files.write(file, content);
      reader.read(file);
    } catch (InvalidInputException expected) {
      if (expected.getMessage().contains("\n")) {
        throw new AssertionError("message of more than one line: " + expected.getMessage());
      }
    } finally {
      Files.delete(file);
    }
  }
}
