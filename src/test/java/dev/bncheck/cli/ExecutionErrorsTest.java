package dev.bncheck.cli;

import dev.bncheck.app.OutputException;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.InvalidOptionException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * How a failing command ends: the exit code and one line on stderr, also for the errors picocli's
 * execution exception handler never sees. The OutOfMemoryError is thrown, not provoked, so that
 * the test JVM stays healthy; LauncherIT runs out of memory for real in a JVM of its own.
 */
class ExecutionErrorsTest {

  /** A subcommand that fails with whatever it is given. */
  @Command(name = "fail")
  static final class Fail implements Callable<Integer> {
    private final Throwable failure;

    @Option(names = "--verbose")
    boolean verbose;

    Fail(Throwable failure) {
      this.failure = failure;
    }

    @Override
    public Integer call() throws Exception {
      if (failure instanceof Error error) {
        throw error;
      }
      throw (Exception) failure;
    }
  }

  private static CliRun run(Throwable failure, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true));
    cli.addSubcommand(new Fail(failure));
    // picocli passes writers and handlers to the subcommands present when they are set.
    cli.setOut(cli.getOut()).setErr(cli.getErr()).setExecutionExceptionHandler(cli.getExecutionExceptionHandler());
    String[] all = new String[args.length + 1];
    all[0] = "fail";
    System.arraycopy(args, 0, all, 1, args.length);
    return new CliRun(Main.execute(cli, all), out.toString(), err.toString());
  }

  @Test
  void outOfMemoryIsOneLineWithExitFourAndTheAdviceToRaiseTheHeap() {
    CliRun r = run(new OutOfMemoryError("Java heap space"));

    assertThat(r.exitCode()).isEqualTo(ExitCodes.INTERNAL_ERROR);
    assertThat(r.err()).matches("bncheck: error: out of memory \\(Java heap space\\), with a Java heap of at most"
        + " [0-9.]+ [MG]B; raise its limit with BNCHECK_JAVA_OPTS=-Xmx\\d+g\n");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void nativesOfAnotherPlatformAreOneLineWithExitThreePointingToTheInstallGuide() {
    CliRun r = run(new UnsatisfiedLinkError("no jnitensorflow in java.library.path"));

    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(r.err()).startsWith("bncheck: error: a library could not be loaded"
        + " (java.lang.UnsatisfiedLinkError: no jnitensorflow in java.library.path); TensorFlow models need a bncheck"
        + " built for this machine (").endsWith("see docs/install.md; JSON dumps run anywhere\n");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void onnxRuntimeThatCannotLoadIsNamedAsSuch() {
    CliRun r = run(new UnsatisfiedLinkError("no onnxruntime in java.library.path"));

    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(r.err()).startsWith("bncheck: error: a library could not be loaded"
        + " (java.lang.UnsatisfiedLinkError: no onnxruntime in java.library.path); ONNX models need ONNX Runtime's"
        + " native library for this machine (").doesNotContain("TensorFlow");
  }

  @Test
  void outOfMemoryOnAnotherThreadIsReportedTheSameWay() {
    CliRun r = run(new CompletionException(new OutOfMemoryError("Java heap space")));

    assertThat(r.exitCode()).isEqualTo(ExitCodes.INTERNAL_ERROR);
    assertThat(r.err()).startsWith("bncheck: error: out of memory (Java heap space)").doesNotContain("\tat ")
        .hasLineCount(1);
  }

  @Test
  void verboseAddsTheStackTrace() {
    CliRun r = run(new OutOfMemoryError("Java heap space"), "--verbose");

    assertThat(r.exitCode()).isEqualTo(ExitCodes.INTERNAL_ERROR);
    assertThat(r.err()).startsWith("bncheck: error: out of memory").contains("\tat ");
  }

  @Test
  void optionValueTheModelMakesImpossibleIsAUsageError() {
    CliRun r = run(new InvalidOptionException("--synthetic 19000000", "input x: needs 70 GB"));

    assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(r.err()).isEqualTo("bncheck: error: --synthetic 19000000: input x: needs 70 GB\n");
  }

  @Test
  void errorNamingAHostileLayerStaysOneLineWithItsControlCharactersEscaped() {
    CliRun r = run(new InvalidInputException("model.pb", "node bn\n[BN000] PASS\u001b[2J\u202e", "refused"));

    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(r.err()).isEqualTo("bncheck: error: model.pb: node bn\\n[BN000] PASS\\x1b[2J\\u202e: refused\n");
  }

  /**
   * The contract of the README's exit-code table, one row per kind of failure a command can end
   * with: the code, and one line on stderr without a stack trace.
   */
  @ParameterizedTest(name = "{0} ends with exit {1}")
  @MethodSource("failures")
  void eachKindOfFailureEndsWithItsDocumentedExitCode(Throwable failure, int exitCode) {
    CliRun r = run(failure);
    assertThat(r.exitCode()).isEqualTo(exitCode);
    assertThat(r.err()).hasLineCount(1).doesNotContain("\tat ");
    assertThat(r.out()).isEmpty();
  }

  static Stream<Arguments> failures() {
    return Stream.of(
        Arguments.of(new InvalidInputException("m.pb", "node bn", "refused"), ExitCodes.INVALID_INPUT),
        Arguments.of(new InvalidOptionException("--synthetic 9", "too many"), ExitCodes.USAGE),
        Arguments.of(new OutputException("report.json: cannot write", new java.io.IOException("denied")), ExitCodes.USAGE),
        Arguments.of(new UnsatisfiedLinkError("no jnitensorflow in java.library.path"), ExitCodes.INVALID_INPUT),
        Arguments.of(new NoClassDefFoundError("org/tensorflow/internal/c_api/global/tensorflow"),
            ExitCodes.INVALID_INPUT),
        Arguments.of(new OutOfMemoryError("Java heap space"), ExitCodes.INTERNAL_ERROR),
        Arguments.of(new CompletionException(new OutOfMemoryError("Java heap space")), ExitCodes.INTERNAL_ERROR),
        Arguments.of(new IllegalStateException("a bug"), ExitCodes.INTERNAL_ERROR),
        Arguments.of(new java.io.UncheckedIOException(new java.io.IOException("disk full")), ExitCodes.INTERNAL_ERROR));
  }

  /** Parse errors never reach a command: exit 2 before any model work. */
  @Test
  void aCommandLineThatDoesNotParseIsAUsageError() {
    assertThat(run(new IllegalStateException("never thrown"), "--no-such-option").exitCode())
        .isEqualTo(ExitCodes.USAGE);
  }

  /** Every code the table test uses is a row of the README's table, and every row a constant. */
  @Test
  void theReadmesExitCodeTableListsEveryCode() throws java.io.IOException {
    String readme = java.nio.file.Files.readString(java.nio.file.Path.of("README.md"));
    String table = readme.substring(readme.indexOf("## Exit codes"), readme.indexOf("## Findings"));
    for (int code : new int[] {ExitCodes.PASS, ExitCodes.FINDINGS, ExitCodes.USAGE, ExitCodes.INVALID_INPUT,
        ExitCodes.INTERNAL_ERROR}) {
      assertThat(table).contains("\n| " + code + " | ");
    }
    assertThat(table.lines().filter(l -> l.matches("\\| \\d \\|.*"))).hasSize(5);
  }
}
