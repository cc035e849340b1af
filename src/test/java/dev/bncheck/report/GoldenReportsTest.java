package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every report format, compared byte for byte with src/test/resources/golden/. After an intended
 * change, regenerate with {@code mvn test -Dtest=GoldenReportsTest -Dbncheck.regenerate=true} and
 * review the diff like code.
 */
class GoldenReportsTest {

  static final Path GOLDEN = Path.of("src/test/resources/golden");

  static Stream<Arguments> reports() {
    return Stream.of(
        Arguments.of("check-stale.txt", new String[] {"check", "samples/stale.json"}),
        Arguments.of("check-stale.json", new String[] {"check", "samples/stale.json", "--format", "json"}),
        Arguments.of("check-healthy.txt", new String[] {"check", "samples/healthy.json"}),
        Arguments.of("check-dead-channel.txt", new String[] {"check", "samples/dead-channel.json"}),
        Arguments.of("check-nan-statistics.json",
            new String[] {"check", "samples/nan-statistics.json", "--format", "json"}),
        Arguments.of("inspect-never-updated.txt", new String[] {"inspect", "samples/never-updated.json"}),
        Arguments.of("inspect-pytorch-healthy.json",
            new String[] {"inspect", "samples/pytorch-healthy.json", "--format", "json"}),
        Arguments.of("check-stale.md", new String[] {"check", "samples/stale.json", "--format", "markdown"}),
        Arguments.of("check-healthy.md", new String[] {"check", "samples/healthy.json", "--format", "markdown"}),
        Arguments.of("inspect-never-updated.md",
            new String[] {"inspect", "samples/never-updated.json", "--format", "markdown"}),
        Arguments.of("check-stale.junit.xml", new String[] {"check", "samples/stale.json", "--format", "junit"}),
        Arguments.of("check-healthy.junit.xml", new String[] {"check", "samples/healthy.json", "--format", "junit"}),
        Arguments.of("check-dead-channel.junit.xml",
            new String[] {"check", "samples/dead-channel.json", "--format", "junit"}),
        Arguments.of("inspect-never-updated.junit.xml",
            new String[] {"inspect", "samples/never-updated.json", "--format", "junit"}),
        Arguments.of("check-stale.html", new String[] {"check", "samples/stale.json", "--format", "html"}),
        Arguments.of("check-healthy.html", new String[] {"check", "samples/healthy.json", "--format", "html"}),
        Arguments.of("inspect-never-updated.html",
            new String[] {"inspect", "samples/never-updated.json", "--format", "html"}),
        Arguments.of("recalibrate-stale-refused.txt",
            new String[] {"recalibrate", "samples/stale.json", "--out", "target/golden-recalibrated-refused.json"}),
        Arguments.of("recalibrate-stale.txt", new String[] {"recalibrate", "samples/stale.json", "--out",
            "target/golden-recalibrated.json", "--force"}),
        Arguments.of("recalibrate-stale.json", new String[] {"recalibrate", "samples/stale.json", "--out",
            "target/golden-recalibrated.json", "--force", "--format", "json"}),
        Arguments.of("recalibrate-stale.md", new String[] {"recalibrate", "samples/stale.json", "--out",
            "target/golden-recalibrated.json", "--force", "--format", "markdown"}));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("reports")
  void reportMatchesGoldenFile(String golden, String[] args) throws IOException {
    StringWriter out = new StringWriter();
    Main.commandLine(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true)).execute(args);
    Path file = GOLDEN.resolve(golden);
    if (Boolean.getBoolean("bncheck.regenerate")) {
      Files.createDirectories(GOLDEN);
      Files.writeString(file, out.toString());
    }
    assertThat(out.toString()).isEqualTo(Files.readString(file));
  }
}
