package dev.bncheck.cli;

import dev.bncheck.load.InvalidInputException;
import java.io.PrintWriter;
import picocli.CommandLine;

/** Builds the command line once, with every error path mapped to a documented exit code. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs bncheck and returns its exit code; stdout and stderr are the process's own. */
  public static int execute(String... args) {
    return commandLine().execute(args);
  }

  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new BnCheckCommand());
    cli.setExecutionExceptionHandler(Main::handleExecutionException);
    cli.setParameterExceptionHandler(Main::handleParameterException);
    cli.setCaseInsensitiveEnumValuesAllowed(false);
    return cli;
  }

  private static int handleParameterException(CommandLine.ParameterException e, String[] args) {
    CommandLine cli = e.getCommandLine();
    PrintWriter err = cli.getErr();
    err.println("bncheck: " + e.getMessage());
    CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
    err.println("Try '" + cli.getCommandSpec().qualifiedName() + " --help' for more information.");
    return ExitCodes.USAGE;
  }

  private static int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
    boolean verbose = cli.getCommand() instanceof ReportCommand command && command.commonOptions().verbose;
    PrintWriter err = cli.getErr();
    int code;
    if (e instanceof InvalidInputException) {
      err.println("bncheck: error: " + e.getMessage());
      code = ExitCodes.INVALID_INPUT;
    } else if (e instanceof OutputException) {
      err.println("bncheck: error: " + e.getMessage());
      code = ExitCodes.USAGE;
    } else {
      err.println("bncheck: internal error: " + e
          + (verbose ? "" : " (run with --verbose for the stack trace, and please report it)"));
      code = ExitCodes.INTERNAL_ERROR;
    }
    if (verbose) {
      e.printStackTrace(err);
    }
    err.flush();
    return code;
  }
}
