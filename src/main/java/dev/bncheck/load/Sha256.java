package dev.bncheck.load;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The SHA-256 of an input, recorded in reports so that a run can be reproduced. A directory
 * (a SavedModel) hashes every file below it, by relative path in sorted order, so the same files
 * give the same hash wherever they lie; a link or special file inside it is refused
 * ({@link ModelTree}). A file named directly may be a link, but what it reaches must be a regular
 * file holding no more bytes than its size when opened: a pipe would be drained before the loader
 * reads it, and a {@code /proc} file such as {@code pagemap} (size 0) would be read for hours.
 */
public final class Sha256 {

  private Sha256() {}

  public static String of(Path input) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      if (Files.isDirectory(input)) {
        ModelTree tree = ModelTree.of(input);
        for (Path file : tree.files()) {
          digest.update(file.toString().getBytes(StandardCharsets.UTF_8));
          digest.update((byte) 0);
          update(digest, tree.root().resolve(file), input.resolve(file),
              Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS));
        }
      } else if (Files.isRegularFile(input)) {
        update(digest, input, input, Set.of(StandardOpenOption.READ));
      } else {
        throw new InvalidInputException(input.toString(), "", Files.exists(input)
            ? "not a regular file (a pipe, socket or device); bncheck reads only regular files"
            : "no such file or directory");
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

  private static void update(MessageDigest digest, Path file, Path named, Set<OpenOption> options)
      throws IOException {
    try (FileChannel channel = FileChannel.open(file, options)) {
      long size = channel.size();
      ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
      long read = 0;
      int n;
      while ((n = channel.read(buffer.clear())) > 0) {
        read += n;
        if (read > size) {
          throw new InvalidInputException(named.toString(), "",
              "holds more bytes than its size of " + size + " (a /proc or /sys file, or one being written)");
        }
        digest.update(buffer.flip());
      }
    }
  }
}
