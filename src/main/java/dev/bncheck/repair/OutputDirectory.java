package dev.bncheck.repair;

import dev.bncheck.report.TemporarySibling;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.Consumer;

/**
 * Writes a directory so that it appears complete or not at all: the content goes to a temporary
 * sibling ({@link TemporarySibling}), which is renamed into place. An existing target is replaced
 * only when asked, and then only after the new one is complete. A new directory gets mode 0777
 * less the umask; a replaced one keeps its mode.
 */
public final class OutputDirectory {

  private OutputDirectory() {}

  public static void write(Path target, boolean replace, Consumer<Path> content) {
    Path absolute = target.toAbsolutePath();
    try {
      TemporarySibling.removeLeftovers(absolute);
      Path temp = TemporarySibling.newDirectory(absolute);
      try {
        if (Files.isDirectory(absolute)) {
          TemporarySibling.keepMode(absolute, temp);
        }
        content.accept(temp);
        if (Files.exists(absolute)) {
          if (!replace) {
            throw new IllegalStateException(absolute + " appeared while it was being written");
          }
          Path old = TemporarySibling.forOldContent(absolute);
          move(absolute, old);
          move(temp, absolute);
          TemporarySibling.deleteTree(old);
        } else {
          move(temp, absolute);
        }
      } finally {
        if (Files.exists(temp)) {
          TemporarySibling.deleteTree(temp);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Renames atomically where the file system can; {@code options} apply either way. */
  static void move(Path from, Path to, StandardCopyOption... options) throws IOException {
    StandardCopyOption[] atomic = java.util.Arrays.copyOf(options, options.length + 1);
    atomic[options.length] = StandardCopyOption.ATOMIC_MOVE;
    try {
      Files.move(from, to, atomic);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, options);
    }
  }
}
