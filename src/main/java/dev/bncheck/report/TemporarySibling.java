package dev.bncheck.report;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The hidden files and directories bncheck keeps beside a target while it replaces it:
 * {@code .<name>.bncheck-tmp-<pid>-<random>} for the new content and
 * {@code .<name>.bncheck-old-<pid>-<random>} for a replaced directory on its way out. A run
 * killed with {@code kill -9} leaves them behind; the pid in the name lets a later run that
 * writes the same target remove them, and never those of a run still alive.
 *
 * <p>They are created without explicit permissions, so the umask applies as it does for any Unix
 * tool ({@code Files.createTempFile} would make them 0600 and 0700, modes the target then kept).
 */
public final class TemporarySibling {

  private static final String TEMPORARY = "tmp";
  private static final String OLD = "old";
  private static final int ATTEMPTS = 100;

  private TemporarySibling() {}

  /** A new empty file beside {@code target} (an absolute path), mode 0666 less the umask. */
  public static Path newFile(Path target) throws IOException {
    return create(target, Files::createFile);
  }

  /** A new empty directory beside {@code target} (an absolute path), mode 0777 less the umask. */
  public static Path newDirectory(Path target) throws IOException {
    return create(target, Files::createDirectory);
  }

  /** A fresh random name beside {@code target}, for the target's old content to move to. */
  public static Path forOldContent(Path target) {
    return name(target, OLD);
  }

  /** Gives {@code temporary} the permissions of {@code existing}, as replacing it in place would keep them. */
  public static void keepMode(Path existing, Path temporary) throws IOException {
    if (Files.getFileAttributeView(temporary, PosixFileAttributeView.class) != null) {
      Files.setPosixFilePermissions(temporary, Files.getPosixFilePermissions(existing));
    }
  }

  /**
   * Removes what killed runs left beside {@code target} (an absolute path). A replaced directory
   * on its way out is removed only once the target exists again: if the run died between the two
   * renames, it is the only copy of the old content.
   */
  public static void removeLeftovers(Path target) {
    Pattern leftover = Pattern.compile(
        Pattern.quote("." + target.getFileName() + ".bncheck-") + "(" + TEMPORARY + "|" + OLD + ")-(\\d{1,18})-[0-9a-z]+");
    List<Path> siblings;
    try (Stream<Path> list = Files.list(target.getParent())) {
      siblings = list.toList();
    } catch (IOException e) {
      return;
    }
    for (Path sibling : siblings) {
      Matcher m = leftover.matcher(sibling.getFileName().toString());
      if (m.matches() && (m.group(1).equals(TEMPORARY) || Files.exists(target))
          && ProcessHandle.of(Long.parseLong(m.group(2))).isEmpty()) {
        try {
          deleteTree(sibling);
        } catch (IOException e) {
          // Leftovers are litter, not damage: one that cannot be removed (another user's, in a
          // shared directory) must not stop this run from writing its own output.
        }
      }
    }
  }

  /** Deletes {@code root} and everything below it; a link is deleted, never followed. */
  public static void deleteTree(Path root) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private interface Creator {
    Path create(Path path) throws IOException;
  }

  private static Path create(Path target, Creator creator) throws IOException {
    for (int attempt = 1; ; attempt++) {
      try {
        return creator.create(name(target, TEMPORARY));
      } catch (FileAlreadyExistsException e) {
        if (attempt == ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  private static Path name(Path target, String kind) {
    return target.resolveSibling("." + target.getFileName() + ".bncheck-" + kind + "-"
        + ProcessHandle.current().pid() + "-" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36));
  }
}
