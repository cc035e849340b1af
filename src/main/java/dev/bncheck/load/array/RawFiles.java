package dev.bncheck.load.array;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.JavaHeap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Files whose bytes are fed as strings ({@code @FILE}, {@code @GLOB}): a WAV file to a graph
 * that decodes it. One file is one sample; a glob ({@code *}, {@code ?}, {@code [...]},
 * {@code {a,b}}, {@code **} across folders, as {@link java.nio.file.FileSystem#getPathMatcher}
 * reads them) gives one sample per regular file it matches, sorted by path, so that the samples
 * and their order do not depend on the file system. As in a shell, files and folders whose name
 * starts with {@code .} match only a pattern that starts a name with {@code .}.
 */
final class RawFiles {

  private static final String GLOB_CHARACTERS = "*?[{";

  private RawFiles() {}

  /** The files a pattern names, sorted; at least one. */
  static List<Path> list(String pattern) {
    if (pattern.isEmpty()) {
      throw new InvalidInputException("@", "", "no file after '@'; write @FILE or @GLOB");
    }
    if (pattern.chars().noneMatch(c -> GLOB_CHARACTERS.indexOf(c) >= 0)) {
      Path file = path(pattern);
      if (!Files.exists(file)) {
        throw new InvalidInputException(pattern, "", "no such file or directory");
      }
      if (Files.isDirectory(file)) {
        throw new InvalidInputException(pattern, "",
            "is a directory; write @" + file.resolve("*") + " for one sample per file in it");
      }
      return List.of(file);
    }
    int slash = baseEnd(pattern);
    Path base = slash < 0 ? Path.of("") : path(slash == 0 ? "/" : pattern.substring(0, slash));
    String rest = pattern.substring(slash + 1);
    // only as deep as the pattern reaches: @*.wav in a home folder must not walk all of it
    int depth = rest.contains("**") ? Integer.MAX_VALUE : (int) rest.chars().filter(c -> c == '/').count() + 1;
    PathMatcher matcher;
    try {
      matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(pattern, "", "not a valid glob: " + e.getMessage().lines().findFirst().orElse(""));
    }
    boolean dotNames = rest.startsWith(".") || rest.contains("/.");
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(base)) {
      try (Stream<Path> walk = Files.walk(base, depth, FileVisitOption.FOLLOW_LINKS)) {
        walk.filter(p -> matcher.matches(p) && Files.isRegularFile(p) && (dotNames || !hidden(base.relativize(p))))
            .forEach(files::add);
      } catch (IOException | UncheckedIOException e) {
        throw new InvalidInputException(pattern, "", "cannot list the files it names: " + e.getMessage(), e);
      }
    }
    if (files.isEmpty()) {
      throw new InvalidInputException(pattern, "", "no regular file matches this glob");
    }
    files.sort(Comparator.comparing(Path::toString));
    return files;
  }

  /** The files' bytes, one string per file: shape {@code [files]}. */
  static InputArray.Strings read(String pattern) {
    List<Path> files = list(pattern);
    long total = 0;
    for (Path file : files) {
      try {
        long size = Files.size(file);
        if (size > NpyDtype.MAX_STRING_BYTES) {
          throw new InvalidInputException(file.toString(), "", size + " bytes, more than the "
              + NpyDtype.MAX_STRING_BYTES + " one string can hold");
        }
        total += size + 16;
      } catch (IOException e) {
        throw new InvalidInputException(file.toString(), "", "cannot read: " + e.getMessage(), e);
      }
    }
    if (!JavaHeap.fits(total)) {
      throw new InvalidInputException("@" + pattern, "", files.size() + " files of " + total + " bytes "
          + JavaHeap.tooLarge(total));
    }
    byte[][] values = new byte[files.size()][];
    for (int i = 0; i < values.length; i++) {
      try {
        values[i] = Files.readAllBytes(files.get(i));
      } catch (IOException e) {
        throw new InvalidInputException(files.get(i).toString(), "", "cannot read: " + e.getMessage(), e);
      }
    }
    return new InputArray.Strings(new int[] {values.length}, values);
  }

  /** Whether a file or folder on the path below the pattern's folder is hidden ({@code .git/}). */
  private static boolean hidden(Path belowBase) {
    for (Path name : belowBase) {
      if (name.toString().startsWith(".")) {
        return true;
      }
    }
    return false;
  }

  /** The slash that ends the folder in which the pattern's first glob character lies, or -1 for none. */
  private static int baseEnd(String pattern) {
    int glob = 0;
    while (GLOB_CHARACTERS.indexOf(pattern.charAt(glob)) < 0) {
      glob++;
    }
    return pattern.lastIndexOf('/', glob);
  }

  private static Path path(String text) {
    try {
      return Path.of(text);
    } catch (InvalidPathException e) {
      throw new InvalidInputException(text, "", "not a valid path: " + e.getReason());
    }
  }
}
