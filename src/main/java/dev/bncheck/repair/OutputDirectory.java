package dev.bncheck.repair;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Writes a directory so that it appears complete or not at all: the content goes to a temporary
 * sibling, which is renamed into place. An existing target is replaced only when asked, and
 * then only after the new one is complete.
 */
public final class OutputDirectory {

  private OutputDirectory() {}

  public static void write(Path target, boolean replace, Consumer<Path> content) {
    Path absolute = target.toAbsolutePath();
    Path parent = absolute.getParent();
    try {
      Path temp = Files.createTempDirectory(parent, "." + absolute.getFileName() + ".");
      try {
        content.accept(temp);
        if (Files.exists(absolute)) {
          if (!replace) {
            throw new IllegalStateException(absolute + " appeared while it was being written");
          }
          Path old = Files.createTempDirectory(parent, "." + absolute.getFileName() + ".old.");
          Files.delete(old);
          move(absolute, old);
          move(temp, absolute);
          deleteTree(old);
        } else {
          move(temp, absolute);
        }
      } finally {
        if (Files.exists(temp)) {
          deleteTree(temp);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to);
    }
  }

  static void deleteTree(Path root) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
