package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.JavaHeap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The bytes of a {@code saved_model.pb} or frozen graph, read only when they can be parsed in memory. */
final class ProtobufFile {

  /** The largest array Java allocates; protobuf messages cannot exceed 2 GB anyway. */
  private static final long MAX_SIZE = Integer.MAX_VALUE - 8;

  private ProtobufFile() {}

  static byte[] read(Path file) throws IOException {
    long size = Files.size(file);
    if (size > MAX_SIZE) {
      throw new InvalidInputException(file.toString(), "", "larger than " + MAX_SIZE + " bytes");
    }
    // Parsing copies the bytes into the message: both are in memory at once.
    if (!JavaHeap.fits(2 * size)) {
      throw new InvalidInputException(file.toString(), "", "a file of " + size + " bytes "
          + JavaHeap.tooLarge(2 * size));
    }
    return Files.readAllBytes(file);
  }
}
