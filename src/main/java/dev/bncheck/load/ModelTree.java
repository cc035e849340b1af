package dev.bncheck.load;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * What a model directory holds: the directories and regular files below it, as paths relative
 * to it in sorted order. A symbolic link or special file anywhere below it is refused:
 * TensorFlow, the hash and the copy of a recalibrated model would follow a link out of the model
 * (to {@code /proc/self/environ}, to another model's weights) or block on a pipe. The directory
 * itself may be reached through a link, since the user named it.
 *
 * @param root the directory's real path
 */
public record ModelTree(Path root, List<Path> directories, List<Path> files) {

  public ModelTree {
    directories = List.copyOf(directories);
    files = List.copyOf(files);
  }

  /**
   * Lists {@code directory}.
   *
   * @throws InvalidInputException naming the first entry that is neither a directory nor a
   *     regular file, or a directory that cannot be read
   */
  public static ModelTree of(Path directory) {
    List<Path> directories = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    try {
      Path root = directory.toRealPath();
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
          if (!dir.equals(root)) {
            directories.add(root.relativize(dir));
          }
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
          if (!attributes.isRegularFile()) {
            throw new InvalidInputException(directory.resolve(root.relativize(file)).toString(), "",
                (attributes.isSymbolicLink() ? "a symbolic link" : "not a regular file (a pipe, socket or device)")
                    + " inside the model; bncheck reads only regular files of a model (docs/security.md)");
          }
          files.add(root.relativize(file));
          return FileVisitResult.CONTINUE;
        }
      });
      directories.sort(null);
      files.sort(null);
      return new ModelTree(root, directories, files);
    } catch (IOException e) {
      throw new InvalidInputException(directory.toString(), "", "cannot read: " + e.getMessage(), e);
    }
  }
}
