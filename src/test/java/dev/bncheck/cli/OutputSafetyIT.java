package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.DumpBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What bncheck leaves behind when it is killed while writing, or cannot write at all. */
class OutputSafetyIT {

  @TempDir Path dir;

  /** A dump big enough that loading, analysing and writing the report take a noticeable time. */
  Path bigDump() {
    SplittableRandom random = new SplittableRandom(3);
    DumpBuilder dump = new DumpBuilder();
    int channels = 256;
    for (int l = 0; l < 200; l++) {
      float[] mean = new float[channels];
      float[] variance = new float[channels];
      float[] data = new float[64 * channels];
      for (int c = 0; c < channels; c++) {
        mean[c] = (float) random.nextGaussian();
        variance[c] = (float) random.nextDouble(0.5, 2);
      }
      for (int i = 0; i < data.length; i++) {
        data[i] = (float) random.nextGaussian();
      }
      dump.layer("layer" + l + ".bn").movingMean(mean).movingVariance(variance).input(new int[] {64, channels}, data);
    }
    return dump.writeTo(dir.resolve("big.json"));
  }

  @Test
  void killedRunLeavesTheOldReportOrTheWholeNewOneNeverAPartialOne() throws Exception {
    Path dump = bigDump();
    Path report = dir.resolve("report.json");
    ObjectMapper json = new ObjectMapper();
    List<String> outcomes = new ArrayList<>();
    ProcessBuilder run = new ProcessBuilder(LauncherIT.LAUNCHER.toString(), "check", dump.toString(), "--format", "json",
        "--output", report.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile());
    for (long delay : killTimes(run, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1.0, 2.0)) {
      Files.writeString(report, "OLD");
      Process p = run.start();
      boolean finished = p.waitFor(delay, TimeUnit.MILLISECONDS);
      if (!finished) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
      }
      String content = Files.readString(report);
      if (content.equals("OLD")) {
        outcomes.add("old");
      } else {
        assertThat(json.readTree(content).path("report_format").asText()).isEqualTo("bncheck-report");
        assertThat(content).endsWith("}\n");
        outcomes.add("new");
      }
    }
    // Both outcomes occurred, so the kills really did land before and after the rename.
    assertThat(outcomes).contains("old", "new");
    CliRun later = CliRun.of("check", dump.toString(), "--format", "json", "--output", report.toString());
    assertThat(later.exitCode()).as(later.err()).isIn(0, 1);
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).as("what the killed runs left")
          .noneMatch(name -> name.startsWith(".report.json."));
    }
  }

  @Test
  void killedRecalibrationLeavesNoOutputOrACompleteModel() throws Exception {
    List<String> outcomes = new ArrayList<>();
    long[] delays = killTimes(recalibration(dir.resolve("uninterrupted")), 0.1, 0.3, 0.5, 0.7, 0.9, 2.0);
    for (int i = 0; i < delays.length; i++) {
      Path out = dir.resolve("fixed-" + i);
      long delay = delays[i];
      Process p = recalibration(out).start();
      if (!p.waitFor(delay, TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
      }
      if (!Files.exists(out)) {
        outcomes.add("none");
        continue;
      }
      CliRun inspect = CliRun.of("inspect", out.toString());
      assertThat(inspect.exitCode()).as(inspect.err()).isIn(0, 1);
      assertThat(inspect.out()).contains("2 BN layers");
      outcomes.add("complete");
    }
    assertThat(outcomes).contains("none", "complete");
  }

  private static ProcessBuilder recalibration(Path out) {
    Path root = LauncherIT.ROOT;
    return new ProcessBuilder(LauncherIT.LAUNCHER.toString(), "recalibrate",
        root.resolve("samples/keras-cnn-untrained").toString(), "--inputs",
        root.resolve("samples/keras-cnn-inputs.npy").toString(), "--labels",
        root.resolve("samples/keras-cnn-labels.npy").toString(), "--out", out.toString())
        .redirectErrorStream(true).redirectOutput(out.resolveSibling(out.getFileName() + ".log").toFile());
  }

  /**
   * Times to kill {@code run} at, in milliseconds: fractions of how long it takes uninterrupted on
   * this machine now. Fixed times killed every run before its rename on a machine loaded with other
   * work (a recalibration took 9.5 s where 6 s had been the last kill), and would kill none on a
   * much faster one.
   */
  private static long[] killTimes(ProcessBuilder run, double... fractions) throws Exception {
    long start = System.nanoTime();
    Process p = run.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("an uninterrupted run finished in time").isTrue();
    assertThat(p.exitValue()).as("an uninterrupted run").isIn(0, 1);
    long millis = (System.nanoTime() - start) / 1_000_000;
    return Arrays.stream(fractions).mapToLong(f -> Math.round(f * millis)).toArray();
  }

  @Test
  void fullDiskIsAClearUsageError() throws Exception {
    CliRun run = CliRun.of("check", "samples/healthy.json", "--output", "/dev/full");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: /dev/full: cannot write the report").doesNotContain("\tat ");
  }
}
