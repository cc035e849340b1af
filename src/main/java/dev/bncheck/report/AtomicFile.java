package dev.bncheck.report;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a file so that readers see the old content or the new, never a half-written one: the
 * content goes to a temporary file in the same directory, which is then renamed over the target.
 *
 * <p>Only regular files can be replaced that way. A device or pipe ({@code --output /dev/null},
 * {@code /dev/stdout}, a FIFO) is written in place: renaming over it would replace the device
 * itself with a regular file. A symbolic link is followed, so the link stays and its target
 * gets the new content.
 *
 * <p>A new file gets the mode any Unix tool would give it (0666 less the umask); a replaced one
 * keeps its mode. The temporary file is named as {@link TemporarySibling} says, so that a later
 * run removes it if this one is killed.
 */
public final class AtomicFile {

  /** Produces the content. */
  @FunctionalInterface
  public interface Content {
    void writeTo(Writer out) throws IOException;
  }

  private AtomicFile() {}

  public static void write(Path target, Content content) throws IOException {
    if (Files.isDirectory(target)) {
      throw new IOException("is a directory");
    }
    if (Files.exists(target) && !Files.isRegularFile(target)) {
      try (Writer out = Files.newBufferedWriter(target, StandardCharsets.UTF_8)) {
        content.writeTo(out);
      }
      return;
    }
    Path real = Files.exists(target) ? target.toRealPath() : target.toAbsolutePath();
    if (!Files.isDirectory(real.getParent())) {
      throw new IOException("no such directory " + real.getParent());
    }
    TemporarySibling.removeLeftovers(real);
    Path temp = TemporarySibling.newFile(real);
    try {
      if (Files.isRegularFile(real)) {
        // Before any content goes in, so that a private report is never readable, even half-written.
        TemporarySibling.keepMode(real, temp);
      }
      try (Writer out = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
        content.writeTo(out);
      }
      try {
        Files.move(temp, real, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, real, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
