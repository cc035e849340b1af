package dev.bncheck.load.array;

import dev.bncheck.load.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Where an array is read from, for error messages: a file, or a member of an archive file
 * ({@code data.npz: images.npy: ...}).
 */
record ArraySource(String file, String member) {

  static ArraySource of(String file) {
    return new ArraySource(file, "");
  }

  ArraySource in(String memberName) {
    return new ArraySource(file, memberName);
  }

  InvalidInputException error(String location, String problem) {
    return new InvalidInputException(file, join(location), problem);
  }

  InvalidInputException readFailed(String location, IOException e) {
    return new InvalidInputException(
        file, join(location), "read failed: " + e.getMessage(), new UncheckedIOException(e));
  }

  private String join(String location) {
    if (member.isEmpty()) {
      return location;
    }
    return location.isEmpty() ? member : member + ": " + location;
  }
}
