package dev.bncheck.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * How much a command says on stderr besides its one-line errors, shared by every command: more
 * (stack traces) or less (no progress), never both, which the parser refuses.
 */
final class Verbosity {

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  Level level;

  static final class Level {
    @Option(names = {"-v", "--verbose"}, description = "Show stack traces of errors.")
    boolean verbose;

    @Option(names = {"-q", "--quiet"}, description = "No progress on stderr (shown only at a terminal anyway).")
    boolean quiet;
  }

  boolean quiet() {
    return level != null && level.quiet;
  }
}
