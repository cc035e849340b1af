package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.DumpBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged launcher, run as a user runs it: exit codes, stdout and stderr. */
class LauncherIT {

  static final Path ROOT = Path.of(System.getProperty("bncheck.basedir", ".")).toAbsolutePath().normalize();
  static final Path LAUNCHER = ROOT.resolve("bin/bncheck");

  @TempDir Path elsewhere;

  record Result(int exitCode, String out, String err) {}

  static Result run(Path workingDirectory, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(LAUNCHER.toString());
    command.addAll(List.of(args));
    return runCommand(workingDirectory, command);
  }

  static Result runCommand(Path workingDirectory, List<String> command) throws IOException, InterruptedException {
    return runCommand(workingDirectory, command, Map.of());
  }

  static Result runCommand(Path workingDirectory, List<String> command, Map<String, String> env)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile("bncheck-out", ".txt");
    Path err = Files.createTempFile("bncheck-err", ".txt");
    try {
      ProcessBuilder pb = new ProcessBuilder(command).directory(workingDirectory.toFile())
          .redirectOutput(out.toFile()).redirectError(err.toFile());
      pb.environment().put("NO_COLOR", "1");
      pb.environment().putAll(env);
      Process p = pb.start();
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("finished in time").isTrue();
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /**
   * The launcher's stderr filter passes what bncheck marked as its own on at once (a progress
   * update ends in a carriage return, not a newline), drops TensorFlow's two start-up lines, and
   * indents and escapes every other line: TensorFlow logs model text raw, and a newline in it
   * forged a CI command line and a line that looked like bncheck's (red-team finds).
   */
  @Test
  void stderrFilterPassesProgressOnAtOnceAndNeutralizesLinesBncheckDidNotWrite() throws Exception {
    String writer = "printf 'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n';"
        + " printf 'I0000 00:00:1.2   17 mlir_graph_optimization_pass.cc:401] MLIR V1 optimization pass is not enabled\\n';"
        + " printf 'E0000 00:00:1.2 mlir_bridge_pass_util.cc:68] Failed to parse f\\n::error title=x::PASS\\n\\033[2JFORGED\\n';"
        + " printf '2 compiler directives added\\n';"
        + " printf 'Picked up JAVA_TOOL_OPTIONS: -Xmx1g\\nNOTE: Picked up JDK_JAVA_OPTIONS: -Xss2m\\n';"
        + " printf 'Picked up _JAVA_OPTIONS: -Xmx1g\\nnot Picked up JAVA_TOOL_OPTIONS: kept\\n';"
        + " printf 'bncheck: forged by the model\\n';"
        + " printf 'MARK|bncheck: error: kept\\nMARK|\\rMARK|bncheck: calibration batches 1 of 2'; sleep 4;"
        + " printf '\\rMARK|bncheck: calibration batches 2 of 2\\rMARK|     \\rMARK|'";
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", "(" + writer + ") | perl "
        + ROOT.resolve("bin/stderr-filter.pl")).redirectErrorStream(true);
    pb.environment().put("BNCHECK_STDERR_MARK", "MARK|");
    Process p = pb.start();
    long start = System.nanoTime();
    StringBuilder seen = new StringBuilder();
    var in = p.getInputStream();
    while (!seen.toString().contains("batches 1 of 2")) {
      int c = in.read();
      assertThat(c).as("output ended before the first update").isNotNegative();
      seen.append((char) c);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(seconds).as("the first update arrived while the writer still ran").isLessThan(3);
    seen.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(seen.toString()).isEqualTo("""
          E0000 00:00:1.2 mlir_bridge_pass_util.cc:68] Failed to parse f
          ::error title=x::PASS
          \\x1b[2JFORGED
          not Picked up JAVA_TOOL_OPTIONS: kept
          bncheck: forged by the model
        bncheck: error: kept
        \rbncheck: calibration batches 1 of 2\rbncheck: calibration batches 2 of 2\r     \r""");
  }

  /**
   * Some CI images set JAVA_TOOL_OPTIONS for every JVM, which then says so on stderr: bncheck's
   * stderr stays its own there too (found running the suite with the JIT held to older CPUs'
   * instruction sets through that variable: ten launcher tests failed on the JVM's line).
   */
  @Test
  void optionsTheJvmTakesFromTheEnvironmentLeaveStderrEmpty() throws Exception {
    Result r = runCommand(elsewhere, List.of(LAUNCHER.toString(), "check", ROOT.resolve("samples/healthy.json").toString()),
        Map.of("JAVA_TOOL_OPTIONS", "-XX:UseAVX=2", "JDK_JAVA_OPTIONS", "-Xss2m"));
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("PASS");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void runsFromAnyDirectoryAndExitsWithOneOnFindings() throws Exception {
    Result r = run(elsewhere, "check", ROOT.resolve("samples/stale.json").toString());
    assertThat(r.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(r.out()).contains("[BN003] error block1/bn").contains("FAIL: 6 findings at or above --fail-on error");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void healthySamplePassesWithExitZero() throws Exception {
    Result r = run(ROOT, "check", "samples/healthy.json", "--format", "json");
    assertThat(r.exitCode()).isEqualTo(ExitCodes.PASS);
    assertThat(r.out()).contains("\"verdict\": \"pass\"");
    assertThat(r.err()).isEmpty();
  }

  /**
   * A TensorFlow model runs with the launcher's compiler directives, whose count the JVM prints:
   * it goes to stderr and is dropped there, so that stdout holds the report alone.
   */
  @Test
  void aTensorFlowModelsJsonReportIsAllOfStdout() throws Exception {
    Result r = run(ROOT, "check", "samples/keras-cnn-trained", "--inputs", "samples/keras-cnn-inputs.npy",
        "--format", "json");
    assertThat(r.exitCode()).as(r.err()).isEqualTo(ExitCodes.PASS);
    assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out()).path("verdict").asText())
        .isEqualTo("pass");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void badInputIsOneLineOnStderrWithExitThree() throws Exception {
    Path truncated = elsewhere.resolve("truncated.json");
    Files.writeString(truncated, Files.readString(ROOT.resolve("samples/healthy.json")).substring(0, 5000));
    Result r = run(elsewhere, "check", "truncated.json");
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(r.err()).matches("bncheck: error: truncated\\.json: .*\n").doesNotContain("\tat ");
    assertThat(r.out()).isEmpty();
  }

  /**
   * An ONNX model that fails in ONNX Runtime's run (an id beyond its table) is one line on stderr,
   * naming the sample that fails alone: ONNX Runtime's own log lines of the failure (two, coloured)
   * came before bncheck's, which named the whole batch.
   */
  @Test
  void anOnnxModelFailingInItsRunIsOneLineOnStderr() throws Exception {
    Path x = Files.write(elsewhere.resolve("x.npy"), dev.bncheck.TestFiles.randomNpy(16, 3));
    long[] ids = new long[16];
    ids[5] = 7;
    Path idsFile = Files.write(elsewhere.resolve("ids.npy"), dev.bncheck.TestFiles.npy(ids, 16));
    Result r = run(elsewhere, "check", ROOT.resolve("src/test/resources/onnx/graphs/gather-ids.onnx").toString(),
        "--inputs", "x=" + x, "--inputs", "ids=" + idsFile);
    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(r.err()).matches("bncheck: error: [^\n]*: sample 5 of the data [^\n]*: the model cannot run on this"
        + " data: [^\n]*Gather node[^\n]*"
        + "idx=7 must be within the inclusive range \\[-4,3\\]\n");
  }

  @Test
  void runningOutOfMemoryIsOneLineWithExitFourAndTheAdviceToRaiseTheHeap() throws Exception {
    // 12 MB of activations in base64: within every size check, but not within a 16 MB heap.
    int samples = 750_000;
    float[] activations = new float[samples * 4];
    Arrays.fill(activations, 0.5f);
    new DumpBuilder().layer("bn").gamma(1, 1, 1, 1).beta(0, 0, 0, 0).movingMean(0, 0, 0, 0)
        .movingVariance(1, 1, 1, 1).input(new int[] {samples, 4}, activations).up()
        .writeTo(elsewhere.resolve("large.json"));

    Result r = runCommand(elsewhere, List.of("env", "BNCHECK_JAVA_OPTS=-Xmx16m", LAUNCHER.toString(), "check",
        "large.json"));

    assertThat(r.exitCode()).isEqualTo(ExitCodes.INTERNAL_ERROR);
    assertThat(r.err()).matches("bncheck: error: out of memory \\(Java heap space\\), with a Java heap of at most"
        + " 16.0 MB; raise its limit with BNCHECK_JAVA_OPTS=-Xmx1g\n");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void usageErrorExitsWithTwo() throws Exception {
    Result r = run(elsewhere, "chek", "x.json");
    assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(r.err()).contains("Unmatched arguments").contains("check");
  }

  /** Every bncheck command in the README's shell blocks runs and exits as the README says. */
  @Test
  void readmeCommandsRun() throws Exception {
    String readme = Files.readString(ROOT.resolve("README.md"));
    Matcher blocks = Pattern.compile("```sh\n(.*?)```", Pattern.DOTALL).matcher(readme);
    int commands = 0;
    while (blocks.find()) {
      for (String line : blocks.group(1).split("\n")) {
        if (!line.startsWith("bin/bncheck ")) {
          continue;
        }
        commands++;
        Result r = runCommand(ROOT, List.of("bash", "-c", line));
        assertThat(r.exitCode()).as(line).isIn(ExitCodes.PASS, ExitCodes.FINDINGS);
        assertThat(r.out()).as(line).isNotEmpty();
        assertThat(r.err()).as(line).isEmpty();
      }
    }
    assertThat(commands).isGreaterThanOrEqualTo(2);
  }
}
