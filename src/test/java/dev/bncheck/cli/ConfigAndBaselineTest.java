package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigAndBaselineTest {

  @TempDir Path dir;

  Path config(String json) throws IOException {
    return Files.writeString(dir.resolve("bncheck.json"), json);
  }

  @Test
  void configSetsDefaultsAndTheCommandLineWins() throws IOException {
    Path config = config("{\"fail_on\": \"warning\", \"thresholds\": {\"dead_median_factor\": 1e-12,"
        + " \"dead_eps_factor\": 1e-12}}");
    assertThat(CliRun.of("check", "samples/dead-channel.json", "--config", config.toString()).exitCode())
        .as("the dead channel is below the config's factors, so nothing fires").isZero();
    Path strict = config("{\"fail_on\": \"warning\"}");
    assertThat(CliRun.of("check", "samples/dead-channel.json", "--config", strict.toString()).exitCode()).isEqualTo(1);
    assertThat(CliRun.of("check", "samples/dead-channel.json", "--config", strict.toString(), "--fail-on", "error")
        .exitCode()).isZero();
  }

  @Test
  void ignoredFindingsStayInTheReportWithTheirReasonButDoNotFail() throws IOException {
    Path config = config("{\"fail_on\": \"warning\", \"ignore\": [{\"code\": \"BN006\", \"layer\": \"block2/*\","
        + " \"reason\": \"channel 5 is pruned in the next release\"}]}");
    CliRun run = CliRun.of("check", "samples/dead-channel.json", "--config", config.toString(), "--format", "json");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("\"code\": \"BN006\"")
        .contains("\"suppressed\": \"channel 5 is pruned in the next release (" + config + ")\"")
        .contains("\"verdict\": \"pass\"");
  }

  @Test
  void unknownKeysAndIgnoresWithoutReasonAreErrorsNamingTheKey() throws IOException {
    CliRun typo = CliRun.of("check", "samples/healthy.json", "--config", config("{\"fail-on\": \"info\"}").toString());
    assertThat(typo.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(typo.err()).contains("fail-on: unknown key; a config has fail_on, thresholds, calibration, pytorch and ignore");
    CliRun nested = CliRun.of("check", "samples/healthy.json", "--config",
        config("{\"thresholds\": {\"mean_shift\": 1}}").toString());
    assertThat(nested.err()).contains("thresholds.mean_shift: unknown key");
    CliRun noReason = CliRun.of("check", "samples/healthy.json", "--config",
        config("{\"ignore\": [{\"code\": \"BN001\"}]}").toString());
    assertThat(noReason.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(noReason.err()).contains("ignore[0].reason: an ignore needs a reason");
  }

  /** A bad value was reported as a bad command-line option ("Invalid value for option '--fail-on'"). */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
      "{\"fail_on\": \"sometimes\"}                  | fail_on: expected info, warning, error or never, got \"sometimes\"",
      "{\"thresholds\": {\"mean_shift_warn\": \"x\"}}  | thresholds.mean_shift_warn: expected a number above 0, got \"x\"",
      "{\"thresholds\": {\"var_ratio_error\": -2}}     | thresholds.var_ratio_error: expected a number above 0, got -2",
      "{\"calibration\": {\"batch_size\": 0}}         | calibration.batch_size: expected a whole number, 1 or more, got 0",
      "{\"calibration\": {\"training_view\": \"yes\"}} | calibration.training_view: expected auto, always or never",
      "{\"pytorch\": {\"momentum\": 1.5}}             | pytorch.momentum: expected a number in (0, 1], got 1.5"})
  void aBadValueNamesTheConfigFileAndKey(String json, String message) throws IOException {
    Path file = config(json);
    CliRun run = CliRun.of("check", "samples/healthy.json", "--config", file.toString());
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).startsWith("bncheck: error: " + file + ": " + message);
    assertThat(run.out()).isEmpty();
  }

  @Test
  void aFileThatIsNotABaselineIsAnInputError() throws IOException {
    Path bad = Files.writeString(dir.resolve("baseline.json"), "{\"format\": \"something-else\"}");
    CliRun run = CliRun.of("check", "samples/stale.json", "--baseline", bad.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).isEqualTo("bncheck: error: " + bad + ": not a bncheck baseline\n");
    Path severity = Files.writeString(dir.resolve("severity.json"), "{\"format\": \"bncheck-baseline\", \"findings\":"
        + " [{\"code\": \"BN003\", \"layer\": \"block1/bn\", \"severity\": \"fatal\"}]}");
    assertThat(CliRun.of("check", "samples/stale.json", "--baseline", severity.toString()).err())
        .contains("findings[0].severity: expected info, warning or error");
  }

  @Test
  void baselineRecordsTodaysFindingsAndLaterFailsOnlyOnNewOrWorseOnes() throws IOException {
    Path baseline = dir.resolve("baseline.json");
    assertThat(CliRun.of("check", "samples/stale.json", "--baseline", baseline.toString()).exitCode()).isZero();
    assertThat(Files.readString(baseline)).contains("\"format\" : \"bncheck-baseline\"", "\"code\" : \"BN003\"");
    assertThat(CliRun.of("check", "samples/stale.json", "--baseline", baseline.toString()).exitCode()).isZero();
    CliRun newFindings = CliRun.of("check", "samples/never-updated.json", "--baseline", baseline.toString(),
        "--format", "json");
    assertThat(newFindings.exitCode()).as("BN001 is new on the same layers").isEqualTo(1);
    assertThat(newFindings.out()).contains("\"suppressed\": \"in the baseline " + baseline + "\"");
  }

  /** The stale sample has six errors; with all of them in the baseline, each format says why the run passes. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "text     | PASS: no findings at or above --fail-on error (0 errors, 0 warnings, 0 info; 6 errors suppressed by the baseline)",
      "markdown | PASS — 0 errors, 0 warnings, 0 info; 6 errors suppressed by the baseline (--fail-on error)",
      "html     | <span class=\"verdict pass\">PASS</span>no findings at or above <code>--fail-on error</code>; 6 errors suppressed by the baseline",
      "junit    | <property name=\"suppressed\" value=\"6 errors suppressed by the baseline\"/>",
      "json     | \"suppressed_by\": {\n      \"ignore\": 0,\n      \"baseline\": 6\n    }"})
  void everyFormatSaysHowManyFindingsTheBaselineSuppressed(String format, String expected) throws IOException {
    Path baseline = dir.resolve("baseline.json");
    assertThat(CliRun.of("check", "samples/stale.json", "--baseline", baseline.toString()).exitCode()).isZero();
    CliRun run = CliRun.of("check", "samples/stale.json", "--baseline", baseline.toString(), "--format", format);
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains(expected.replace("\\n", "\n"));
  }

  @Test
  void suppressionsAreCountedByWhereTheyComeFrom() throws IOException {
    Path baseline = dir.resolve("baseline.json");
    assertThat(CliRun.of("check", "samples/stale.json", "--baseline", baseline.toString()).exitCode()).isZero();
    Path config = config("{\"ignore\": [{\"code\": \"BN004\", \"layer\": \"**\", \"reason\": \"known\"}]}");
    CliRun run = CliRun.of("check", "samples/stale.json", "--baseline", baseline.toString(), "--config",
        config.toString());
    assertThat(run.out()).contains("PASS: no findings at or above --fail-on error (0 errors, 0 warnings, 0 info;"
        + " 3 errors suppressed by the config file's ignore list; 3 errors suppressed by the baseline)");
  }
}
