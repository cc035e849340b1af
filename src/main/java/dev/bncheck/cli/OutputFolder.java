package dev.bncheck.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * An output's folder must exist before the run: bncheck does not create folders, and finding
 * out only when the output is written wasted the run and ended as an internal error.
 */
final class OutputFolder {

  private OutputFolder() {}

  /** @throws CommandLine.ParameterException (a usage error) when the folder {@code file} goes in is missing */
  static void require(CommandSpec spec, String option, Path file) {
    Path folder = file.toAbsolutePath().getParent();
    if (folder != null && Files.exists(folder) && !Files.isDirectory(folder)) {
      throw new CommandLine.ParameterException(spec.commandLine(), option + ": " + file.getParent()
          + " is a file, not a folder");
    }
    if (folder != null && !Files.isDirectory(folder)) {
      throw new CommandLine.ParameterException(spec.commandLine(), option + ": the folder " + file.getParent()
          + " does not exist; bncheck does not create folders");
    }
  }
}
