package dev.bncheck.load.tensorflow;

import dev.bncheck.load.ModelTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Copies the parts of a SavedModel that a recalibrated model keeps as they are (saved_model.pb,
 * assets). Only directories and regular files are copied, never through a link: a hostile
 * {@code assets/vocab.txt -> /proc/self/environ} would otherwise put the environment, tokens
 * included, into the output model. {@link ModelTree} refuses such an entry anywhere in the model.
 */
final class UnchangedParts {

  private UnchangedParts() {}

  /** Copies each of {@code parts} (top-level names, absent ones skipped) from {@code model} to {@code to}. */
  static void copy(Path model, List<String> parts, Path to) throws IOException {
    ModelTree tree = ModelTree.of(model);
    for (Path directory : tree.directories()) {
      if (parts.contains(directory.getName(0).toString())) {
        Files.createDirectories(to.resolve(directory.toString()));
      }
    }
    for (Path file : tree.files()) {
      if (parts.contains(file.getName(0).toString())) {
        Files.copy(tree.root().resolve(file), to.resolve(file.toString()), StandardCopyOption.COPY_ATTRIBUTES,
            LinkOption.NOFOLLOW_LINKS);
      }
    }
  }
}
