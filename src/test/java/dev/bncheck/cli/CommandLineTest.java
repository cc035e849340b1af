package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.DumpBuilder;
import dev.bncheck.analysis.Thresholds;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Parsing, exit codes and error lines, in process. */
class CommandLineTest {

  @TempDir Path dir;

  @Test
  void thresholdOptionDefaultsAreTheDocumentedDefaults() {
    CheckCommand check = new CheckCommand();
    new CommandLine(check).parseArgs("model.json");
    assertThat(check.thresholdOptions.toThresholds()).isEqualTo(Thresholds.DEFAULTS);
  }

  @Test
  void thresholdOptionsReachTheThresholds() {
    CheckCommand check = new CheckCommand();
    new CommandLine(check).parseArgs("m.json", "--mean-shift-warn", "0.1", "--var-ratio-error", "3");
    assertThat(check.thresholdOptions.toThresholds().meanShiftWarning()).isEqualTo(0.1);
    assertThat(check.thresholdOptions.toThresholds().varianceRatioError()).isEqualTo(3.0);
  }

  @Test
  void unknownOptionIsAUsageErrorWithASuggestion() {
    CliRun run = CliRun.of("check", "samples/healthy.json", "--fail-onn", "warning");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).contains("Unknown options: '--fail-onn', 'warning'")
        .contains("Possible solutions: --fail-on");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void badOptionValuesAreUsageErrors() {
    assertThat(CliRun.of("check", "samples/healthy.json", "--format", "xml").err())
        .contains("expected one of text, json, markdown, junit, html, got 'xml'");
    assertThat(CliRun.of("check", "samples/healthy.json", "--fail-on", "sometimes").exitCode())
        .isEqualTo(ExitCodes.USAGE);
    CliRun inconsistent = CliRun.of("check", "samples/healthy.json", "--mean-shift-warn", "2");
    assertThat(inconsistent.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(inconsistent.err()).contains("the mean shift error threshold is below the warning threshold");
    CliRun negativeView = CliRun.of("check", "samples/keras-cnn-untrained", "--inputs", "samples/keras-cnn-inputs.npy",
        "--training-view-samples", "-1");
    assertThat(negativeView.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(negativeView.err()).contains("training view samples must not be negative, got -1");
    assertThat(CliRun.of("check").exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(CliRun.of().exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(CliRun.of().err()).startsWith("bncheck: error: Missing a command: inspect, check or recalibrate");
    // --synthetic 0 was taken as no --synthetic at all
    CliRun noSamples = CliRun.of("check", "samples/healthy.json", "--synthetic", "0");
    assertThat(noSamples.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(noSamples.err()).contains("--synthetic needs at least 1 sample");
    assertThat(noSamples.out()).isEmpty();
  }

  /** -o report.html without --format had written a text report into the HTML file. */
  @Test
  void anOutputWithoutFormatTakesTheFormatItsExtensionNames() throws IOException {
    for (String[] named : new String[][] {{"r.json", "{\n  \"report_format\""}, {"r.html", "<!DOCTYPE html>"},
        {"r.md", "## bncheck check"}, {"r.xml", "<?xml"}, {"r.txt", "bncheck "}}) {
      Path file = dir.resolve(named[0]);
      CliRun run = CliRun.of("check", "samples/healthy.json", "-o", file.toString());
      assertThat(run.exitCode()).as(run.err()).isZero();
      assertThat(Files.readString(file)).as(named[0]).startsWith(named[1]);
    }
    Path forced = dir.resolve("forced.html");
    CliRun.of("check", "samples/healthy.json", "-o", forced.toString(), "--format", "text");
    assertThat(Files.readString(forced)).startsWith("bncheck ");
  }

  /** More and less detail at once is refused by the parser, for every command, before any model is read. */
  @Test
  void verboseAndQuietExcludeEachOtherInEveryCommand() {
    for (String[] command : new String[][] {{"inspect", "no/such/model.json"}, {"check", "no/such/model.json"},
        {"recalibrate", "no/such/model.json", "--out", "no/such/out.json"}}) {
      String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(command), java.util.stream.Stream.of(
          "-v", "--quiet")).toArray(String[]::new);
      CliRun run = CliRun.of(args);
      assertThat(run.exitCode()).as(String.join(" ", args)).isEqualTo(ExitCodes.USAGE);
      assertThat(run.err()).startsWith("bncheck: error: --verbose, --quiet are mutually exclusive");
      assertThat(run.out()).isEmpty();
    }
    assertThat(CliRun.of("inspect", "samples/healthy.json", "-q").exitCode()).isZero();
  }

  @Test
  void missingModelIsOneLineWithExitCode3AndNoStackTrace() {
    CliRun run = CliRun.of("check", "no/such/model.json");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).isEqualTo("bncheck: error: no/such/model.json: no such file or directory\n");
  }

  @Test
  void verboseAddsTheStackTrace() {
    CliRun run = CliRun.of("check", "no/such/model.json", "--verbose");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).startsWith("bncheck: error: no/such/model.json: no such file or directory\n")
        .contains("at dev.bncheck.");
  }

  @Test
  void invalidDumpNamesTheFieldAndExitsWith3() throws IOException {
    Path dump = new DumpBuilder().layer("bn").movingMean(0, 0).movingVariance(1).up().writeTo(dir.resolve("d.json"));
    CliRun run = CliRun.of("inspect", dump.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).isEqualTo("bncheck: error: " + dump + ": layers[0].moving_variance: expected 2 values, got 1\n");
  }

  @Test
  void unrecognisedModelKindSaysWhatIsExpected() throws IOException {
    Path file = Files.writeString(dir.resolve("model.bin"), "PK\u0003\u0004");
    CliRun run = CliRun.of("inspect", file.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).contains("not a model bncheck can read (expected a bncheck JSON dump (.json), an ONNX model"
        + " (a .onnx file), a TensorFlow SavedModel (a directory with saved_model.pb), a Keras model (.keras, or a legacy"
        + " .h5), a frozen TensorFlow graph (.pb), a PyTorch checkpoint from torch.save (.pt, .pth), a safetensors file"
        + " (.safetensors))");
  }

  @Test
  void outputFileReceivesTheReportAndStdoutStaysEmpty() throws IOException {
    Path report = dir.resolve("report.json");
    CliRun run = CliRun.of("check", "samples/stale.json", "--format", "json", "--output", report.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(run.out()).isEmpty();
    assertThat(Files.readString(report)).startsWith("{\n  \"report_format\": \"bncheck-report\"");
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(report);
    }
  }

  @Test
  void unwritableOutputIsAUsageError() {
    CliRun run = CliRun.of("check", "samples/healthy.json", "--output", dir.resolve("missing/r.txt").toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: --output " + dir.resolve("missing/r.txt") + ": the folder "
        + dir.resolve("missing") + " does not exist");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void outputThatIsAnInputIsRefusedAndTheInputKept() throws IOException {
    Path model = Files.copy(Path.of("samples/healthy.json"), dir.resolve("model.json"));
    String before = Files.readString(model);
    CliRun run = CliRun.of("check", model.toString(), "--output", model.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).contains("is an input of this run; bncheck never overwrites its inputs");
    assertThat(Files.readString(model)).isEqualTo(before);
  }

  @Test
  void separateCalibrationFileReplacesEmbeddedData() throws IOException {
    Path model = new DumpBuilder().source("framework", "keras").layer("bn").channelAxis(-1)
        .movingMean(0, 0).movingVariance(1, 1).up().writeTo(dir.resolve("m.json"));
    float[] data = new float[200];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) (5 + (i % 7));
    }
    Path inputs = new DumpBuilder().layer("bn").channelAxis(null).epsilon(null).input(new int[] {100, 2}, data).up()
        .writeTo(dir.resolve("inputs.json"));
    CliRun run = CliRun.of("check", model.toString(), "--inputs", inputs.toString(), "--format", "json");
    assertThat(run.err()).isEmpty();
    assertThat(run.out()).contains("\"source\": \"" + inputs + "\"").contains("\"code\": \"BN004\"")
        .contains("\"batches\": 1");
  }

  @Test
  void versionAndHelp() {
    assertThat(CliRun.of("--version").out()).isEqualTo("bncheck 0.1.0\n");
    CliRun help = CliRun.of("--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.out()).contains("inspect", "check", "Exit codes:", "3  unreadable or invalid input");
    assertThat(CliRun.of("check", "--help").out()).contains("--inputs=[NAME=]FILE", "--mean-shift-warn=X", "--fail-on=LEVEL", "--tag-set=TAGS", "--batch-size=N");
  }
}
