package dev.bncheck.cli;

import picocli.AutoComplete;
import picocli.CommandLine.HelpCommand;

/**
 * The subcommands of {@code bncheck}, in the order its usage help lists them. picocli reads a
 * subcommand's annotations into its model (every option, converter and description) when the
 * subcommand is added, and for all of them that was most of a short run's time; a run whose
 * first argument names a subcommand gets that one alone, since nothing else on its command line
 * can reach the others. Every other run (no command, an option first, {@code help}, a mistyped
 * name and its suggestions) gets them all.
 */
final class Subcommands {

  private Subcommands() {}

  static Object[] all() {
    return new Object[] {new InspectCommand(), new CheckCommand(), new RecalibrateCommand(),
        new AutoComplete.GenerateCompletion(), new HelpCommand()};
  }

  /** The subcommand that {@code args} name first, else all of them. */
  static Object[] named(String[] args) {
    return switch (args.length == 0 ? "" : args[0]) {
      case "inspect" -> new Object[] {new InspectCommand()};
      case "check" -> new Object[] {new CheckCommand()};
      case "recalibrate" -> new Object[] {new RecalibrateCommand()};
      default -> all();
    };
  }
}
