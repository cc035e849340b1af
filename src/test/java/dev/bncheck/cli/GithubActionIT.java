package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The composite GitHub Action (action.yml): its shell step run as the runner runs it, and its wiring. */
class GithubActionIT {

  static final Path ROOT = LauncherIT.ROOT;
  static final Path STEP = ROOT.resolve("scripts/action-run.sh");

  @TempDir Path workspace;

  private LauncherIT.Result step(String... env) throws Exception {
    List<String> command = new ArrayList<>(List.of("env", "GITHUB_OUTPUT=" + workspace.resolve("output"),
        "GITHUB_STEP_SUMMARY=" + workspace.resolve("summary")));
    command.addAll(List.of(env));
    command.add(STEP.toString());
    return LauncherIT.runCommand(workspace, command);
  }

  @Test
  void findingsFailTheStepAndTheReportsAreItsOutputsAndSummary() throws Exception {
    LauncherIT.Result r = step("BNCHECK_MODEL=" + ROOT.resolve("samples/stale.json"));

    assertThat(r.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(Files.readString(workspace.resolve("output"))).isEqualTo("""
        exit-code=1
        junit=bncheck-report/bncheck.xml
        markdown=bncheck-report/bncheck.md
        json=bncheck-report/bncheck.json
        """);
    assertThat(workspace.resolve("bncheck-report/bncheck.xml")).content().contains("failures=\"6\"");
    assertThat(workspace.resolve("bncheck-report/bncheck.json")).isRegularFile();
    assertThat(Files.readString(workspace.resolve("summary")))
        .isEqualTo(Files.readString(workspace.resolve("bncheck-report/bncheck.md")))
        .startsWith("## bncheck check: FAIL");
  }

  @Test
  void eachLineOfDataIsAnInputAndFailOnNeverPasses() throws Exception {
    LauncherIT.Result r = step("BNCHECK_MODEL=" + ROOT.resolve("samples/keras-cnn-untrained"),
        "BNCHECK_DATA=\n  " + ROOT.resolve("samples/keras-cnn-inputs.npy") + "  \n\n",
        "BNCHECK_FAIL_ON=never", "BNCHECK_REPORT_DIR=out/reports");

    assertThat(r.exitCode()).as(r.err()).isEqualTo(ExitCodes.PASS);
    assertThat(workspace.resolve("output")).content().startsWith("exit-code=0\njunit=out/reports/bncheck.xml\n");
    assertThat(workspace.resolve("out/reports/bncheck.json")).content().contains("\"BN001\"");
  }

  @Test
  void aModelThatCannotBeReadWritesNoReportButItsExitCode() throws Exception {
    LauncherIT.Result r = step("BNCHECK_MODEL=missing.json");

    assertThat(r.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(workspace.resolve("output")).hasContent("exit-code=3");
    assertThat(workspace.resolve("summary")).doesNotExist();
  }

  @Test
  void anEmptyModelInputIsAUsageError() throws Exception {
    LauncherIT.Result r = step("BNCHECK_MODEL=");

    assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(r.err()).isEqualTo("bncheck action: the model input is empty\n");
  }

  /** Every input reaches the step's environment and every output comes from a line the step writes. */
  @Test
  void actionPassesEveryInputToTheStepAndTakesEveryOutputFromIt() throws Exception {
    String action = Files.readString(ROOT.resolve("action.yml"));
    String step = Files.readString(STEP);
    assertThat(action).contains("run: '\"$GITHUB_ACTION_PATH/scripts/action-run.sh\"'");

    String inputs = action.substring(action.indexOf("\ninputs:\n"), action.indexOf("\noutputs:\n"));
    Matcher input = Pattern.compile("\n  ([a-z-]+):\n").matcher(inputs);
    int count = 0;
    while (input.find()) {
      count++;
      Matcher env = Pattern.compile("\n +(BNCHECK_\\w+): \\$\\{\\{ inputs\\." + input.group(1) + " }}\n").matcher(action);
      assertThat(env.find()).as("input " + input.group(1)).isTrue();
      assertThat(step).as("input " + input.group(1)).contains("${" + env.group(1) + ":-");
    }
    assertThat(count).isEqualTo(4);

    String outputs = action.substring(action.indexOf("\noutputs:\n"), action.indexOf("\nruns:\n"));
    Matcher output = Pattern.compile("\n  ([a-z-]+):\n.*?\n    value: \\$\\{\\{ steps\\.run\\.outputs\\.([a-z-]+) }}(?=\n|$)",
        Pattern.DOTALL).matcher(outputs);
    count = 0;
    while (output.find()) {
      count++;
      assertThat(output.group(2)).isEqualTo(output.group(1));
      assertThat(step).as("output " + output.group(1)).contains("echo \"" + output.group(1) + "=");
    }
    assertThat(count).isEqualTo(4);
  }
}
