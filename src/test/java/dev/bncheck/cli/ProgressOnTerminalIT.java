package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Progress, end to end: {@code bin/bncheck check} under a pseudo-terminal shows its progress line
 * when stderr is the terminal, whatever stdout is, and writes none when stderr is a pipe, even with
 * stdout on the terminal. The launcher pipes bncheck's stderr through its filter, so only the
 * launcher can tell (BNCHECK_STDERR_TERMINAL). The pseudo-terminal comes from util-linux's
 * {@code script}, standard on Debian and Ubuntu and required by this test (docs/install.md).
 */
class ProgressOnTerminalIT {

  private static final Path ROOT = LauncherIT.ROOT;

  @TempDir Path dir;

  @BeforeAll
  static void scriptFromUtilLinuxIsInstalled() throws Exception {
    Process p;
    try {
      p = new ProcessBuilder("script", "--version").redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new AssertionError("this test needs `script` from util-linux to run bin/bncheck under a "
          + "pseudo-terminal (apt-get install util-linux; see docs/install.md): " + e.getMessage(), e);
    }
    String version = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(version).as("this test needs `script` from util-linux (its -q -e -c options; docs/install.md)")
        .contains("util-linux");
  }

  /** What a pseudo-terminal showed while {@code shellCommand} ran in the checkout, and its exit code. */
  private record Terminal(int exitCode, String shown) {}

  private Terminal underPseudoTerminal(String shellCommand) throws Exception {
    Path shown = dir.resolve("terminal.txt");
    ProcessBuilder pb = new ProcessBuilder("script", "-q", "-e", "-c", shellCommand, "/dev/null")
        .directory(ROOT.toFile()).redirectOutput(shown.toFile()).redirectErrorStream(true);
    pb.environment().put("NO_COLOR", "1");
    pb.environment().remove("BNCHECK_STDERR_TERMINAL");
    Process p = pb.start();
    p.getOutputStream().close();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("finished in time: " + shellCommand).isTrue();
    return new Terminal(p.exitValue(), Files.readString(shown, StandardCharsets.UTF_8));
  }

  private static String quoted(Path path) {
    return "'" + path + "'";
  }

  @ParameterizedTest(name = "{arguments}")
  @CsvSource(delimiter = ';', value = {
      "samples/stale.json; layers read 1",
      "samples/keras-cnn-untrained --inputs samples/keras-cnn-inputs.npy; calibration batches 1 of 4"})
  void progressShowsWhenStderrIsTheTerminalAndStdoutIsAFile(String arguments, String progress) throws Exception {
    Path report = dir.resolve("report.json");
    Terminal t = underPseudoTerminal("bin/bncheck check " + arguments + " --format json > " + quoted(report));
    assertThat(t.exitCode()).as(t.shown()).isEqualTo(1);
    assertThat(t.shown()).contains("\rbncheck: " + progress);
    assertThat(t.shown()).as("the progress line is cleared before bncheck ends").endsWith("\r");
    assertThat(Files.readString(report)).startsWith("{").doesNotContain("bncheck: " + progress);
  }

  @Test
  void progressShowsWhenBothAreTheTerminal() throws Exception {
    Terminal t = underPseudoTerminal("bin/bncheck check samples/stale.json");
    assertThat(t.exitCode()).as(t.shown()).isEqualTo(1);
    assertThat(t.shown()).contains("\rbncheck: layers read 1", "FAIL: 6 findings");
  }

  /** stdout on the terminal, stderr into a pipe: Java's console says "terminal", the launcher knows better. */
  @Test
  void noProgressWhenStderrIsAPipeEvenWithStdoutOnTheTerminal() throws Exception {
    Path stderr = dir.resolve("stderr.txt");
    Terminal t = underPseudoTerminal("bin/bncheck check samples/keras-cnn-untrained --inputs "
        + "samples/keras-cnn-inputs.npy 2>&1 1>/dev/tty | cat > " + quoted(stderr));
    assertThat(t.shown()).as("the report went to the terminal").contains("FAIL:", "BN001");
    assertThat(t.shown()).doesNotContain("bncheck: calibration batches");
    assertThat(Files.readString(stderr, StandardCharsets.UTF_8)).doesNotContain("calibration batches", "\r");
  }

  /** No terminal at all, as in CI: stderr holds no progress line. */
  @Test
  void noProgressWithoutATerminal() throws Exception {
    LauncherIT.Result r = LauncherIT.runCommand(ROOT, List.of(LauncherIT.LAUNCHER.toString(), "check",
        "samples/keras-cnn-untrained", "--inputs", "samples/keras-cnn-inputs.npy"));
    assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).doesNotContain("calibration batches", "\r");
  }
}
