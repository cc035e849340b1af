package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTML report in a real browser: headless Chromium renders the page of samples/stale.json to a
 * screenshot (kept in target/) without console errors. Skipped when {@code chromium} is not on the
 * PATH (.ci/run installs it).
 */
class HtmlReportBrowserIT {

  static final Path ROOT = Path.of(System.getProperty("bncheck.basedir", ".")).toAbsolutePath().normalize();

  @TempDir Path temp;

  @Test
  void staleReportRendersWithoutConsoleErrors() throws Exception {
    Path chromium = onPath("chromium");
    assumeTrue(chromium != null, "chromium is not on the PATH");

    Path html = temp.resolve("stale.html");
    Path err = temp.resolve("bncheck.err");
    Process bncheck = new ProcessBuilder(ROOT.resolve("bin/bncheck").toString(), "check",
        ROOT.resolve("samples/stale.json").toString(), "--format", "html")
        .directory(temp.toFile()).redirectOutput(html.toFile()).redirectError(err.toFile()).start();
    assertThat(bncheck.waitFor(180, TimeUnit.SECONDS)).as("bncheck finished in time").isTrue();
    assertThat(bncheck.exitValue()).as("exit code (findings)").isEqualTo(1);
    assertThat(Files.readString(html)).startsWith("<!DOCTYPE html>");

    Path screenshot = ROOT.resolve("target/html-report-stale.png");
    Files.deleteIfExists(screenshot);
    Path profile = Files.createDirectory(temp.resolve("profile"));
    Path log = temp.resolve("chromium.log");
    List<String> command = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--enable-logging=stderr", "--v=0", "--user-data-dir=" + profile,
        "--screenshot=" + screenshot, "--window-size=1200,1600", html.toUri().toString()));
    Process browser = new ProcessBuilder(command).directory(temp.toFile())
        .redirectOutput(temp.resolve("chromium.out").toFile()).redirectError(log.toFile()).start();
    assertThat(browser.waitFor(120, TimeUnit.SECONDS)).as("chromium finished in time").isTrue();

    String stderr = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(Files.exists(screenshot)).as("screenshot written; chromium said:\n" + stderr).isTrue();
    byte[] png = Files.readAllBytes(screenshot);
    assertThat(png.length).as("screenshot size").isGreaterThan(20_000);
    assertThat(png[1] == 'P' && png[2] == 'N' && png[3] == 'G').as("a PNG").isTrue();
    List<String> console = stderr.lines()
        .filter(l -> l.contains("CONSOLE") || l.contains("Uncaught")).toList();
    assertThat(console).as("console messages of the page").isEmpty();
  }

  private static Path onPath(String program) throws IOException {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir, program);
      if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
