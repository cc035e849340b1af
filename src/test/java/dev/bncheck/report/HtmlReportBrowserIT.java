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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The HTML report in a real browser: headless Chromium renders the page of samples/stale.json to a
 * screenshot (kept in target/) without console errors, and pages fit a 600 px wide window. Skipped
 * when {@code chromium} is not on the PATH (.ci/run installs it).
 */
class HtmlReportBrowserIT {

  static final Path ROOT = Path.of(System.getProperty("bncheck.basedir", ".")).toAbsolutePath().normalize();

  @TempDir Path temp;

  @Test
  void staleReportRendersWithoutConsoleErrors() throws Exception {
    Path chromium = onPath("chromium");
    assumeTrue(chromium != null, "chromium is not on the PATH");

    Path html = report("stale.html", 1, "check", ROOT.resolve("samples/stale.json").toString());

    Path screenshot = ROOT.resolve("target/html-report-stale.png");
    Files.deleteIfExists(screenshot);
    String stderr = chromium(chromium, html, "1200,1600", "--screenshot=" + screenshot).stderr();
    assertThat(Files.exists(screenshot)).as("screenshot written; chromium said:\n" + stderr).isTrue();
    byte[] png = Files.readAllBytes(screenshot);
    assertThat(png.length).as("screenshot size").isGreaterThan(20_000);
    assertThat(png[1] == 'P' && png[2] == 'N' && png[3] == 'G').as("a PNG").isTrue();
    List<String> console = stderr.lines()
        .filter(l -> l.contains("CONSOLE") || l.contains("Uncaught")).toList();
    assertThat(console).as("console messages of the page").isEmpty();
  }

  /**
   * At 600 px nothing is wider than the window: the charts scale down, long hashes and words wrap.
   * A copy of the page gets a script (the report itself has none) that opens every layer's block,
   * then writes the page's width and the elements reaching past the window into the DOM, which
   * chromium prints.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"check samples/stale.json", "inspect samples/never-updated.json"})
  void reportFitsA600PixelWideWindow(String run) throws Exception {
    Path chromium = onPath("chromium");
    assumeTrue(chromium != null, "chromium is not on the PATH");

    String[] words = run.split(" ");
    Path html = report("narrow.html", 1, words[0], ROOT.resolve(words[1]).toString());
    Path probed = temp.resolve("probed.html");
    Files.writeString(probed, Files.readString(html).replace("</body>", WIDTH_PROBE + "</body>"));

    Chromium result = chromium(chromium, probed, "600,900", "--dump-dom");
    Matcher widths = Pattern.compile("client=(\\d+) scroll=(\\d+) wide=([^<]*)<").matcher(result.stdout());
    assertThat(widths.find()).as("the probe's line in the DOM; chromium said:\n" + result.stderr()).isTrue();
    int client = Integer.parseInt(widths.group(1));
    assertThat(client).as("window width without the scroll bar").isBetween(500, 600);
    assertThat(Integer.parseInt(widths.group(2))).as("page width; elements past the window: " + widths.group(3))
        .isLessThanOrEqualTo(client);
    assertThat(widths.group(3)).as("elements past the window").isEmpty();
  }

  private static final String WIDTH_PROBE = """
      <script>
      window.addEventListener('load', () => {
        document.querySelectorAll('details').forEach(d => d.open = true);
        const width = document.documentElement.clientWidth;
        const wide = [...document.body.querySelectorAll('*')]
            .filter(e => e.getBoundingClientRect().right > width + 0.5 || e.scrollWidth > e.clientWidth + 0.5)
            .map(e => e.tagName.toLowerCase() + '@' + Math.round(e.getBoundingClientRect().right));
        const out = document.createElement('pre');
        out.textContent = 'client=' + width + ' scroll=' + document.documentElement.scrollWidth + ' wide='
            + wide.slice(0, 20).join(',');
        document.body.appendChild(out);
      });
      </script>
      """;

  /** The HTML report of one bncheck run through the launcher, with its expected exit code. */
  private Path report(String name, int exitCode, String... args) throws Exception {
    Path html = temp.resolve(name);
    Path err = temp.resolve("bncheck.err");
    List<String> command = new ArrayList<>(List.of(ROOT.resolve("bin/bncheck").toString()));
    command.addAll(List.of(args));
    command.addAll(List.of("--format", "html"));
    Process bncheck = new ProcessBuilder(command)
        .directory(temp.toFile()).redirectOutput(html.toFile()).redirectError(err.toFile()).start();
    assertThat(bncheck.waitFor(180, TimeUnit.SECONDS)).as("bncheck finished in time").isTrue();
    assertThat(bncheck.exitValue()).as("exit code; stderr:\n" + Files.readString(err)).isEqualTo(exitCode);
    assertThat(Files.readString(html)).startsWith("<!DOCTYPE html>");
    return html;
  }

  private record Chromium(String stdout, String stderr) {}

  /** Headless chromium on the page, in a window of {@code size} ("width,height"), with a fresh profile. */
  private Chromium chromium(Path chromium, Path page, String size, String action) throws Exception {
    Path profile = Files.createTempDirectory(temp, "profile");
    Path out = Files.createTempFile(temp, "chromium", ".out");
    Path log = Files.createTempFile(temp, "chromium", ".log");
    List<String> command = List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--enable-logging=stderr", "--v=0", "--user-data-dir=" + profile,
        "--force-device-scale-factor=1", "--window-size=" + size, action, page.toUri().toString());
    Process browser = new ProcessBuilder(command).directory(temp.toFile())
        .redirectOutput(out.toFile()).redirectError(log.toFile()).start();
    assertThat(browser.waitFor(120, TimeUnit.SECONDS)).as("chromium finished in time").isTrue();
    return new Chromium(Files.readString(out, StandardCharsets.UTF_8), Files.readString(log, StandardCharsets.UTF_8));
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
