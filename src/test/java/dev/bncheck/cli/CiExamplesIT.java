package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;

/** The examples of docs/ci.md run as written, with the launcher, and leave the files they promise. */
class CiExamplesIT {

  static final Path CI_DOC = LauncherIT.ROOT.resolve("docs/ci.md");

  @TempDir Path job;

  /** A CI job's working directory: the examples call bin/bncheck on samples/, relative to it. */
  private void checkout() throws Exception {
    Files.createSymbolicLink(job.resolve("bin"), LauncherIT.ROOT.resolve("bin"));
    Files.createSymbolicLink(job.resolve("samples"), LauncherIT.ROOT.resolve("samples"));
  }

  /** Before @TempDir cleans up, which warns about links leading out of it. */
  @AfterEach
  void removeCheckout() throws Exception {
    Files.deleteIfExists(job.resolve("bin"));
    Files.deleteIfExists(job.resolve("samples"));
  }

  private static String section(String doc, String heading, String fence) {
    Matcher m = Pattern.compile("\n## " + heading + "\n.*?```" + fence + "\n(.*?)```", Pattern.DOTALL).matcher(doc);
    assertThat(m.find()).as("a " + fence + " block under '## " + heading + "'").isTrue();
    return m.group(1);
  }

  private void assertReportsOfStaleSample() throws Exception {
    Element suite = DocumentBuilderFactory.newDefaultInstance().newDocumentBuilder()
        .parse(job.resolve("bncheck.xml").toFile()).getDocumentElement();
    assertThat(suite.getAttribute("name")).isEqualTo("bncheck");
    assertThat(suite.getAttribute("failures")).isEqualTo("6");
    assertThat(Files.readString(job.resolve("bncheck.md"))).startsWith("## bncheck check: FAIL");
  }

  @Test
  void plainShellExampleExitsWithOneAndWritesBothReports() throws Exception {
    checkout();
    String script = section(Files.readString(CI_DOC), "Plain shell", "sh");
    LauncherIT.Result r = LauncherIT.runCommand(job, List.of("bash", "-c", script));
    assertThat(r.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(r.out()).contains("[BN003] error block1/bn")
        .endsWith("bncheck: findings at or above warning; see bncheck.md\n");
    assertThat(r.err()).isEmpty();
    assertReportsOfStaleSample();
  }

  /** The action's shell step with the example's inputs leaves the reports where the later steps look. */
  @Test
  void actionExampleWritesTheReportsItsLaterStepsPublish() throws Exception {
    checkout();
    String example = section(Files.readString(CI_DOC), "The bncheck GitHub Action", "yaml");
    Matcher with = Pattern.compile("uses: OWNER/bncheck@v\\S+\n +with:\n +model: (\\S+)\n +fail-on: (\\S+)\n")
        .matcher(example);
    assertThat(with.find()).as("the action's inputs").isTrue();

    LauncherIT.Result r = LauncherIT.runCommand(job, List.of("env", "BNCHECK_MODEL=" + with.group(1),
        "BNCHECK_FAIL_ON=" + with.group(2), LauncherIT.ROOT.resolve("scripts/action-run.sh").toString()));

    assertThat(r.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    Matcher published = Pattern.compile("(?:report_paths|path): (bncheck-report/\\S*)").matcher(example);
    int count = 0;
    while (published.find()) {
      count++;
      assertThat(job.resolve(published.group(1))).as(published.group(0)).exists();
    }
    assertThat(count).isEqualTo(2);
  }

  /** The container example's bncheck arguments, run with the launcher instead of the image. */
  @Test
  void containerExampleWritesBothReports() throws Exception {
    checkout();
    String command = section(Files.readString(CI_DOC), "Container image", "sh").replace("\\\n", "").strip();
    String image = "docker run --rm --user \"$(id -u):$(id -g)\" -v \"$PWD:/work\" bncheck ";
    assertThat(command).startsWith(image);

    LauncherIT.Result r = LauncherIT.runCommand(job,
        List.of("bash", "-c", "bin/bncheck " + command.substring(image.length())));

    assertThat(r.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertReportsOfStaleSample();
  }

  @Test
  void githubAndGitlabCommandsWriteTheFilesTheirLaterStepsPublish() throws Exception {
    checkout();
    String doc = Files.readString(CI_DOC);
    for (String heading : List.of("GitHub Actions without the action", "GitLab CI")) {
      Matcher command = Pattern.compile("(bin/bncheck .*)").matcher(section(doc, heading, "yaml"));
      assertThat(command.find()).as(heading).isTrue();
      LauncherIT.Result r = LauncherIT.runCommand(job, List.of("bash", "-c", command.group(1)));
      assertThat(r.exitCode()).as(heading).isEqualTo(ExitCodes.FINDINGS);
      assertReportsOfStaleSample();
      Files.delete(job.resolve("bncheck.xml"));
      Files.delete(job.resolve("bncheck.md"));
    }
  }
}
