package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --report FORMAT=FILE}: more outputs of one run, and the command lines it refuses. */
class ReportOptionTest {

  @TempDir Path dir;

  private long filesIn(Path directory) throws IOException {
    try (var files = Files.list(directory)) {
      return files.count();
    }
  }

  @Test
  void writesEveryReportBesideStandardOutput() throws IOException {
    Path xml = dir.resolve("bncheck.xml");
    Path md = dir.resolve("summary.md");
    CliRun run = CliRun.of("check", "samples/stale.json", "--report", "junit=" + xml, "--report", "markdown=" + md);
    assertThat(run.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(run.err()).isEmpty();
    assertThat(run.out()).startsWith("bncheck ").endsWith("FAIL: 6 findings at or above --fail-on error\n");
    assertThat(Files.readString(xml)).startsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"bncheck\"");
    assertThat(Files.readString(md)).startsWith("## bncheck check: FAIL");
    assertThat(filesIn(dir)).as("no temporary files left").isEqualTo(2);
  }

  @Test
  void addsToOutputAndReplacesOldReports() throws IOException {
    Path json = dir.resolve("report.json");
    Path text = Files.writeString(dir.resolve("report.txt"), "old");
    CliRun run = CliRun.of("check", "samples/healthy.json", "--format", "json", "--output", json.toString(),
        "--report", "text=" + text);
    assertThat(run.exitCode()).isEqualTo(ExitCodes.PASS);
    assertThat(run.out()).isEmpty();
    assertThat(Files.readString(json)).contains("\"verdict\": \"pass\"");
    assertThat(Files.readString(text)).startsWith("bncheck ").doesNotContain("\u001b[").contains("No findings.");
  }

  @ParameterizedTest(name = "{arguments}")
  @CsvSource(delimiter = ';', value = {
    "xml=r.xml; unknown format 'xml' in 'xml=r.xml': expected one of text, json, markdown, junit",
    "JUNIT=r.xml; unknown format 'JUNIT' in 'JUNIT=r.xml'",
    "junit; expected FORMAT=FILE, e.g. junit=bncheck.xml, got 'junit'",
    "junit=; expected FORMAT=FILE, e.g. junit=bncheck.xml, got 'junit='",
    "=r.xml; expected FORMAT=FILE, e.g. junit=bncheck.xml, got '=r.xml'",
  })
  void malformedValuesAreUsageErrors(String value, String message) throws IOException {
    CliRun run = CliRun.of("check", "samples/healthy.json", "--report", value);
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: Invalid value for option '--report' (FORMAT=FILE): " + message);
    assertThat(run.out()).isEmpty();
  }

  @Test
  void aReportThatIsAnInputIsRefusedAndTheInputKept() throws IOException {
    Path model = Files.copy(Path.of("samples/healthy.json"), dir.resolve("model.json"));
    String before = Files.readString(model);
    CliRun run = CliRun.of("check", model.toString(), "--report", "junit=" + model);
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: --report junit=" + model
        + " is an input of this run; bncheck never overwrites its inputs");
    assertThat(run.out()).isEmpty();
    assertThat(Files.readString(model)).isEqualTo(before);
  }

  @Test
  void twoOutputsNamingOneFileAreRefused() throws IOException {
    Path file = dir.resolve("r.md");
    Files.createDirectory(dir.resolve("sub"));
    CliRun run = CliRun.of("check", "samples/healthy.json", "--output", file.toString(),
        "--report", "markdown=" + dir.resolve("sub/../r.md"));
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: --output " + file + " and --report markdown=" + dir.resolve("sub/../r.md")
        + " name the same file");
    assertThat(filesIn(dir)).isEqualTo(1);
  }

  @Test
  void unwritableReportIsAUsageError() {
    Path missing = dir.resolve("missing/r.xml");
    CliRun run = CliRun.of("check", "samples/healthy.json", "--report", "junit=" + missing);
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: --report junit=" + missing + ": the folder " + missing.getParent()
        + " does not exist");
    assertThat(run.out()).isEmpty();
  }
}
