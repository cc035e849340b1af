package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark scripts' own logic, with stand-ins for mvn and java on the PATH: what they give
 * the benchmark's JVM, and their usage errors. The figures of docs/performance.md come from these
 * commands, so a setting they lose changes what was measured.
 */
class BenchScriptsIT {

  private static final Path ROOT = LauncherIT.ROOT;

  @TempDir Path tmp;
  Path bin;

  /**
   * A mvn that notes it ran and prints Maven's colour resets on stdout, as Maven 3.8 does when
   * quiet; a java that prints its arguments and the environment TensorFlow reads.
   */
  @BeforeEach
  void standIns() throws Exception {
    bin = Files.createDirectories(tmp.resolve("bin"));
    write("mvn", """
        #!/bin/sh
        echo ran >> "$MVN_RAN"
        printf '\\033[0m\\033[0m'
        """);
    write("java", """
        #!/bin/sh
        for a in "$@"; do printf 'arg %s\\n' "$a"; done
        echo "TF_ENABLE_ONEDNN_OPTS=$TF_ENABLE_ONEDNN_OPTS"
        echo "ONEDNN_MAX_CPU_ISA=$ONEDNN_MAX_CPU_ISA"
        """);
  }

  private void write(String name, String script) throws Exception {
    Path file = bin.resolve(name);
    Files.writeString(file, script);
    assertThat(file.toFile().setExecutable(true)).isTrue();
  }

  /** Runs a script with the stand-ins first on the PATH, and no oneDNN settings of the caller's. */
  private LauncherIT.Result run(String script, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", ROOT.resolve("scripts").resolve(script).toString()));
    command.addAll(List.of(args));
    return LauncherIT.runCommand(tmp, command, Map.of("PATH", bin + ":" + System.getenv("PATH"),
        "MVN_RAN", tmp.resolve("mvn-ran").toString(), "TF_ENABLE_ONEDNN_OPTS", "", "ONEDNN_MAX_CPU_ISA", ""));
  }

  @Test
  void avx2HoldsTheJitAndOneDnnAndTheBenchmarkGetsTheOtherArguments() throws Exception {
    LauncherIT.Result r = run("bench.sh", "--sizes", "large", "--isa", "avx2", "--rounds", "3");

    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("instruction sets held to AVX2: java -XX:UseAVX=2, ONEDNN_MAX_CPU_ISA=AVX2\n");
    String benchmark = r.out().substring(r.out().indexOf("arg -XX:UseAVX=2\narg -Xmx3g"));
    assertThat(benchmark).contains("ONEDNN_MAX_CPU_ISA=AVX2\n")
        .contains("arg dev.bncheck.bench.MomentsBench\narg --sizes\narg large\narg --rounds\narg 3\nTF_");
    assertThat(r.out()).as("Maven's output stays off the results").doesNotContain("\033");
  }

  /**
   * bin/bncheck runs TensorFlow with oneDNN on; by itself TensorFlow turns it on only on CPUs with
   * AVX-512 VNNI or the like, where the baseline would then be another kernel than elsewhere.
   */
  @Test
  void tensorFlowRunsWithOneDnnAsTheLauncherRunsIt() throws Exception {
    LauncherIT.Result r = run("bench.sh", "--sizes", "small");

    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("TF_ENABLE_ONEDNN_OPTS=1\n", "ONEDNN_MAX_CPU_ISA=\n")
        .doesNotContain("UseAVX=2");
  }

  @Test
  void anInstructionSetOtherThanAvx2IsAUsageErrorBeforeAnyBuild() throws Exception {
    for (String[] args : new String[][] {{"--isa", "avx512"}, {"--sizes", "large", "--isa"}}) {
      LauncherIT.Result r = run("bench.sh", args);

      assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(r.err()).startsWith("scripts/bench.sh: --isa takes avx2; usage: scripts/bench.sh [--isa avx2]")
          .hasLineCount(1);
      assertThat(r.out()).isEmpty();
    }
    assertThat(tmp.resolve("mvn-ran")).doesNotExist();
  }

  /** An option's value is the benchmark's to check, even where it looks like the script's option. */
  @Test
  void aValueThatLooksLikeAnOptionGoesToTheBenchmarkWithItsOption() throws Exception {
    LauncherIT.Result r = run("bench.sh", "--rounds", "--isa", "avx2", "3");

    assertThat(r.out()).contains("arg dev.bncheck.bench.MomentsBench\narg --rounds\narg --isa\narg avx2\narg 3\n").doesNotContain("UseAVX=2");
  }

  /**
   * Every wrong line is refused before the model is generated or bncheck built, where a wrong
   * model name had measured another model under its name, and zero rounds had failed at the end.
   */
  @Test
  void theEndToEndBenchmarkRefusesAWrongLineBeforeAnyWork() throws Exception {
    for (String[] args : new String[][] {
        {"--isa"}, {"--isa", "avx512"}, {"--rounds", "0"}, {"--rounds", "abc"}, {"--samples", "-1"},
        {"--model", "nosuch"}, {"--model", "resnet50-foo"}, {"--training-view", "bogus"}, {"--work"}, {"--bogus"}}) {
      LauncherIT.Result r = run("bench-e2e.sh", args);

      assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(r.err()).as(String.join(" ", args)).startsWith("scripts/bench-e2e.sh: ")
          .contains("; usage: scripts/bench-e2e.sh [--rounds N]").hasLineCount(1);
      assertThat(r.out()).isEmpty();
    }
    assertThat(tmp.resolve("mvn-ran")).doesNotExist();
  }
}
