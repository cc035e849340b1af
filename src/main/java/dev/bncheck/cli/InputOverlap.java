package dev.bncheck.cli;

import dev.bncheck.load.ModelLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Whether writing an output would overwrite or delete an input, judged on the paths the system
 * resolves rather than on their spelling: {@code ..}, a symbolic link among the parents and an
 * output that is itself a link to an input all reach the input. An output that contains an input
 * (its parent, with {@code --force}) would delete it; one inside an input directory would change it.
 */
final class InputOverlap {

  private InputOverlap() {}

  /** How {@code output} meets {@code input}, worded to follow the output's name, or empty if it does not. */
  static Optional<String> between(Path output, Path input) {
    Path out = real(output);
    Path in = real(input);
    if (out.equals(in) || hardLinked(out, in)) {
      return Optional.of("is an input of this run");
    }
    if (out.startsWith(in)) {
      return Optional.of("lies inside the input " + input);
    }
    if (in.startsWith(out)) {
      return Optional.of("contains the input " + input);
    }
    return Optional.empty();
  }

  /**
   * Refuses {@code file}, which {@code option} names (e.g. {@code --out fixed}), when writing it
   * would overwrite or delete one of {@code inputs}: a usage error before any work.
   */
  static void requireNotAnInput(CommandSpec spec, String option, Path file, List<Path> inputs) {
    for (Path input : inputs) {
      Optional<String> overlap = between(file, input);
      if (overlap.isPresent()) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            option + " " + overlap.get() + "; bncheck never overwrites its inputs");
      }
    }
  }

  /**
   * Everything a run reads, which no output may overwrite: the model and the files its loader
   * reads beside it, the data files, and the config file.
   */
  static List<Path> readBy(CommandSpec spec, Path model, ModelLoader loader, List<Path> data) {
    List<Path> read = new ArrayList<>(List.of(model));
    read.addAll(data);
    read.addAll(loader.sideFiles(model));
    ConfigFile config = ((BnCheckCommand) spec.root().userObject()).config;
    if (config != null) {
      read.add(config.path());
    }
    return read;
  }

  /** What an output may be: a file, or also a folder (a SavedModel that recalibrate writes). */
  enum Kind { FILE, FILE_OR_FOLDER }

  /** An output as the option that names it, e.g. {@code --output report.json}, for messages. */
  record Output(String option, Path file, Kind kind) {

    Output(String option, Path file) {
      this(option, file, Kind.FILE);
    }
  }

  /**
   * Refuses, before any work, an output that would overwrite or delete one of {@code inputs}, one
   * whose folder is missing, a file output that names a folder, and two outputs of which one is
   * or lies inside the other, where the last would silently win: usage errors.
   */
  static void requireSeparate(CommandSpec spec, List<Output> outputs, List<Path> inputs) {
    for (int i = 0; i < outputs.size(); i++) {
      Output output = outputs.get(i);
      if (output.file().toString().isEmpty()) {
        throw new CommandLine.ParameterException(spec.commandLine(), output.option().strip() + ": the path is empty");
      }
      for (Output earlier : outputs.subList(0, i)) {
        Path a = real(earlier.file());
        Path b = real(output.file());
        String clash = a.equals(b) ? earlier.option() + " and " + output.option() + " name the same file"
            : b.startsWith(a) ? output.option() + " lies inside " + earlier.option()
            : a.startsWith(b) ? earlier.option() + " lies inside " + output.option() : null;
        if (clash != null) {
          throw new CommandLine.ParameterException(spec.commandLine(), clash);
        }
      }
      requireNotAnInput(spec, output.option(), output.file(), inputs);
      OutputFolder.require(spec, output.option(), output.file());
      if (output.kind() == Kind.FILE && Files.isDirectory(output.file())) {
        throw new CommandLine.ParameterException(spec.commandLine(), output.option() + " is a folder; it names a file");
      }
    }
  }

  private static boolean hardLinked(Path a, Path b) {
    try {
      return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * The path the system would open: the longest part that exists resolved by the file system,
   * the rest, which does not exist yet, appended. A dangling link is the link itself, since it is
   * what an output written there replaces.
   */
  static Path real(Path path) {
    Path absolute = path.toAbsolutePath();
    try {
      return absolute.toRealPath();
    } catch (IOException e) {
      Path parent = absolute.getParent();
      return parent == null ? absolute.normalize() : real(parent).resolve(absolute.getFileName()).normalize();
    }
  }
}
