package dev.bncheck.cli;

import dev.bncheck.app.OutputException;
import dev.bncheck.app.UsageException;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.InvalidOptionException;
import dev.bncheck.load.JavaHeap;
import dev.bncheck.report.ControlCharacters;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import picocli.CommandLine;

/** Builds the command line once, with every error path mapped to a documented exit code. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    System.setErr(new java.io.PrintStream(MarkedStream.of(new java.io.FileOutputStream(java.io.FileDescriptor.err)),
        true, StandardCharsets.UTF_8));
    System.exit(execute(args));
  }

  /** Runs bncheck and returns its exit code; stdout and stderr are the process's own. */
  public static int execute(String... args) {
    return run(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true),
        new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true), args);
  }

  /**
   * Runs bncheck with the project config ({@code --config FILE} or {@code ./bncheck.json}) as the
   * options' defaults. The config is read before the command line is parsed, since its values
   * become the defaults of that parse.
   */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    Optional<ConfigFile> config;
    try {
      config = ConfigFile.find(args);
    } catch (InvalidInputException e) {
      return withoutConfig(out, err, e, args);
    }
    CommandLine cli = commandLine(out, err, Subcommands.named(args));
    config.ifPresent(c -> {
      cli.setDefaultValueProvider(c);
      ((BnCheckCommand) cli.getCommand()).config = c;
    });
    return execute(cli, args);
  }

  /**
   * A config file that cannot be read fails the run that would use it (exit 3), but not a run
   * that cannot start anyway or asks only for help or the version: those answer as without it.
   */
  private static int withoutConfig(PrintWriter out, PrintWriter err, InvalidInputException configError,
      String... args) {
    CommandLine cli = commandLine(out, err, Subcommands.named(args));
    try {
      CommandLine.ParseResult parsed = cli.parseArgs(args);
      boolean helpOrVersion = false;
      for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
        helpOrVersion |= p.isUsageHelpRequested() || p.isVersionHelpRequested()
            || p.commandSpec().helpCommand() || (!p.hasSubcommand() && !p.commandSpec().subcommands().isEmpty());
      }
      if (helpOrVersion) {
        return execute(cli, args);
      }
    } catch (CommandLine.ParameterException usage) {
      return handleParameterException(usage, args);
    }
    err.println("bncheck: error: " + ControlCharacters.escape(configError.getMessage()));
    err.flush();
    return ExitCodes.INVALID_INPUT;
  }

  /**
   * Runs the command line. picocli hands only Exceptions to the execution exception handler; an
   * OutOfMemoryError, or the LinkageError of a native library built for another platform, passes
   * through it and would end the JVM with a stack trace and exit code 1, the code for findings.
   */
  static int execute(CommandLine cli, String... args) {
    try {
      return cli.execute(args);
    } catch (OutOfMemoryError e) {
      return outOfMemory(e, cli.getErr(), verbose(cli.getParseResult()));
    } catch (LinkageError e) {
      return unloadable(e, cli.getErr(), verbose(cli.getParseResult()));
    }
  }

  /**
   * The command line, with every subcommand, writing reports to {@code out} and messages for
   * people to {@code err}.
   */
  public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    return commandLine(out, err, Subcommands.all());
  }

  static CommandLine commandLine(PrintWriter out, PrintWriter err, Object[] subcommands) {
    CommandLine cli = new CommandLine(new BnCheckCommand());
    // Before the settings below: picocli applies them to the subcommands present at that moment.
    for (Object subcommand : subcommands) {
      cli.addSubcommand(subcommand);
    }
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler(Main::handleExecutionException);
    cli.setParameterExceptionHandler(Main::handleParameterException);
    cli.setCaseInsensitiveEnumValuesAllowed(false);
    // picocli would read an argument starting with @ as a file of further arguments: in
    // --inputs @clip.wav it names a file whose bytes are data
    cli.setExpandAtFiles(false);
    return cli;
  }

  private static int handleParameterException(CommandLine.ParameterException e, String[] args) {
    CommandLine cli = e.getCommandLine();
    PrintWriter err = cli.getErr();
    // every error line reads "bncheck: error: ...", whoever found it; some of picocli's own begin "Error: "
    err.println("bncheck: error: " + ControlCharacters.escape(e.getMessage()).replaceFirst("^Error: ", ""));
    CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
    err.println("Try '" + cli.getCommandSpec().qualifiedName() + " --help' for more information.");
    return ExitCodes.USAGE;
  }

  private static int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
    if (e instanceof UsageException usage) {
      return handleParameterException(new CommandLine.ParameterException(cli, usage.getMessage()), new String[0]);
    }
    boolean verbose = verbose(cli.getParseResult());
    PrintWriter err = cli.getErr();
    // Work on another thread (hashing) reaches here wrapped.
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof OutOfMemoryError oom) {
        return outOfMemory(oom, err, verbose);
      }
    }
    // Messages name layers, nodes and files of the model: one line, whatever they contain.
    String message = ControlCharacters.escape(e.getMessage());
    int code;
    if (e instanceof InvalidInputException) {
      err.println("bncheck: error: " + message);
      code = ExitCodes.INVALID_INPUT;
    } else if (e instanceof InvalidOptionException || e instanceof OutputException) {
      err.println("bncheck: error: " + message);
      code = ExitCodes.USAGE;
    } else {
      err.println("bncheck: internal error: " + ControlCharacters.escape(e.toString())
          + (verbose ? "" : " (run with --verbose for the stack trace, and please report it)"));
      code = ExitCodes.INTERNAL_ERROR;
    }
    if (verbose) {
      e.printStackTrace(err);
    }
    err.flush();
    return code;
  }

  private static int outOfMemory(OutOfMemoryError e, PrintWriter err, boolean verbose) {
    long max = Runtime.getRuntime().maxMemory();
    err.println("bncheck: error: out of memory (" + e.getMessage() + "), with a Java heap of at most "
        + JavaHeap.limit() + "; " + JavaHeap.advice(max));
    if (verbose) {
      e.printStackTrace(err);
    }
    err.flush();
    return ExitCodes.INTERNAL_ERROR;
  }

  /**
   * A TensorFlow model on a machine whose platform the build carries no natives for (an Intel Mac,
   * or an archive for another platform). JSON dumps need no native library and still run. Exit 3,
   * not 4: bncheck has no bug here, this machine cannot read that kind of model with this build.
   */
  private static int unloadable(LinkageError e, PrintWriter err, boolean verbose) {
    // ONNX Runtime's own classes load its native library; everything else native is TensorFlow's
    boolean onnxRuntime = e.toString().contains("onnxruntime")
        || java.util.Arrays.stream(e.getStackTrace()).anyMatch(f -> f.getClassName().startsWith("ai.onnxruntime."));
    err.println("bncheck: error: a library could not be loaded (" + ControlCharacters.escape(e.toString())
        + "); " + (onnxRuntime ? "ONNX models need ONNX Runtime's native library for this machine ("
            : "TensorFlow models need a bncheck built for this machine (") + System.getProperty("os.name") + " "
        + System.getProperty("os.arch") + "), see docs/install.md; JSON dumps run anywhere");
    if (verbose) {
      e.printStackTrace(err);
    }
    err.flush();
    return ExitCodes.INVALID_INPUT;
  }

  private static boolean verbose(CommandLine.ParseResult parsed) {
    for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }
}
