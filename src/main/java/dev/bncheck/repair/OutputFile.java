package dev.bncheck.repair;

import dev.bncheck.report.TemporarySibling;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.Consumer;

/**
 * Writes a file so that it appears complete or not at all, as {@link OutputDirectory} writes a
 * directory: the content goes to a temporary sibling file ({@link TemporarySibling}), which is
 * renamed over the target. An existing target is replaced only when asked, and keeps its mode.
 */
public final class OutputFile {

  private OutputFile() {}

  /** @param content writes the file it is given, an empty temporary sibling of the target */
  public static void write(Path target, boolean replace, Consumer<Path> content) {
    Path absolute = target.toAbsolutePath();
    try {
      TemporarySibling.removeLeftovers(absolute);
      Path temp = TemporarySibling.newFile(absolute);
      try {
        if (Files.isRegularFile(absolute)) {
          TemporarySibling.keepMode(absolute, temp);
        }
        content.accept(temp);
        if (Files.exists(absolute) && !replace) {
          throw new IllegalStateException(absolute + " appeared while it was being written");
        }
        OutputDirectory.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(temp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
