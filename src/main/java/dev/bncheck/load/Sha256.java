package dev.bncheck.load;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The SHA-256 of an input, recorded in reports so that a run can be reproduced. A directory
 * (a SavedModel) hashes every regular file below it, by relative path in sorted order, so the
 * same files give the same hash wherever they lie.
 */
public final class Sha256 {

  private Sha256() {}

  public static String of(Path input) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      if (Files.isDirectory(input)) {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(input)) {
          files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path file : files) {
          digest.update(input.relativize(file).toString().getBytes(StandardCharsets.UTF_8));
          digest.update((byte) 0);
          update(digest, file);
        }
      } else {
        update(digest, input);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new InvalidInputException(input.toString(), "", "cannot read: " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
    }
  }

  /** One file's hash, or for several the hash of their hashes in the given order. */
  public static String ofAll(List<Path> inputs) {
    if (inputs.size() == 1) {
      return of(inputs.get(0));
    }
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (Path input : inputs) {
        digest.update(of(input).getBytes(StandardCharsets.US_ASCII));
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
    }
  }

  private static void update(MessageDigest digest, Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[1 << 16];
      int n;
      while ((n = in.read(buffer)) > 0) {
        digest.update(buffer, 0, n);
      }
    }
  }
}
