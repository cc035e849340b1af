package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.DumpBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
    for (long delay : new long[] {300, 700, 1000, 1300, 1600, 2000, 2600, 4000}) {
      Files.writeString(report, "OLD");
      Process p = new ProcessBuilder(LauncherIT.LAUNCHER.toString(), "check", dump.toString(), "--format", "json",
          "--output", report.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile()).start();
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
    Path root = LauncherIT.ROOT;
    for (long delay : new long[] {500, 1200, 1800, 2400, 3000, 6000}) {
      Path out = dir.resolve("fixed-" + delay);
      Process p = new ProcessBuilder(LauncherIT.LAUNCHER.toString(), "recalibrate",
          root.resolve("samples/keras-cnn-untrained").toString(), "--inputs",
          root.resolve("samples/keras-cnn-inputs.npy").toString(), "--out", out.toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile()).start();
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

  @Test
  void fullDiskIsAClearUsageError() throws Exception {
    CliRun run = CliRun.of("check", "samples/healthy.json", "--output", "/dev/full");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: /dev/full: cannot write the report").doesNotContain("\tat ");
  }
}
