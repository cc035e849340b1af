package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An outside tester's command lines: each one a usage error (exit 2) told before the model is
 * read, with nothing on standard output and nothing written, or help that a broken config must
 * not block.
 */
class OutsideUsageFindsTest {

  private static final String MODEL = "samples/keras-cnn-trained";
  private static final String INPUTS = "samples/keras-cnn-inputs.npy";

  @TempDir Path dir;

  private Path badConfig() throws IOException {
    return Files.writeString(dir.resolve("bad.json"), "{\"bogus_key\":1}");
  }

  @Test
  void aBrokenConfigBlocksNeitherHelpNorVersionNorUsageErrors() throws IOException {
    String config = badConfig().toString();
    assertThat(CliRun.of("inspect", "--config", config, "--version").exitCode()).isZero();
    CliRun help = CliRun.of("check", "--config", config, "--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.out()).contains("--inputs");
    CliRun unknown = CliRun.of("check", "--config", config, "samples/healthy.json", "--bogus");
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.err()).contains("Unknown option: '--bogus'");
    assertThat(CliRun.of("check", "--config", config).exitCode()).isEqualTo(2);
    // a run that would use it still fails on it
    CliRun run = CliRun.of("check", "--config", config, "samples/healthy.json");
    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.err()).contains("bogus_key");
  }

  @Test
  void aBaselineIsAnInputWhenItExistsAndAnOutputWhenItDoesNot() throws IOException {
    Path baseline = dir.resolve("baseline.json");
    assertThat(CliRun.of("check", "samples/stale.json", "--baseline", baseline.toString()).exitCode()).isZero();
    String recorded = Files.readString(baseline);
    CliRun over = CliRun.of("check", "samples/stale.json", "--baseline", baseline.toString(), "-o", baseline.toString());
    assertThat(over.exitCode()).isEqualTo(2);
    assertThat(over.err()).contains("is an input of this run");
    assertThat(Files.readString(baseline)).isEqualTo(recorded);

    Path fresh = dir.resolve("fresh.json");
    CliRun same = CliRun.of("check", "samples/stale.json", "--baseline", fresh.toString(), "--report",
        "json=" + fresh);
    assertThat(same.exitCode()).isEqualTo(2);
    assertThat(same.err()).contains("name the same file");
    assertThat(fresh).doesNotExist();

    CliRun missing = CliRun.of("check", "samples/stale.json", "--baseline", dir.resolve("no/b.json").toString());
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).startsWith("bncheck: error: --baseline ").contains("does not exist");
  }

  @Test
  void aBaselineInsideTheSavedModelIsRefused() throws IOException {
    Path model = dir.resolve("model");
    TestFiles.copyTree(Path.of(MODEL), model);
    CliRun run = CliRun.of("check", model.toString(), "--inputs", INPUTS, "--baseline",
        model.resolve("bl.json").toString());
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("lies inside the input");
    assertThat(model.resolve("bl.json")).doesNotExist();
  }

  @Test
  void aNameEqualsValueInputForADumpIsAUsageError() {
    CliRun run = CliRun.of("check", "samples/healthy.json", "--inputs", "x=1");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("a dump takes one --inputs FILE");
  }

  @Test
  void malformedInputSpecsAreUsageErrors() {
    for (String spec : new String[] {"=1", ""}) {
      CliRun run = CliRun.of("check", MODEL, "--inputs", spec);
      assertThat(run.exitCode()).as(spec).isEqualTo(2);
      assertThat(run.err()).as(spec).startsWith("bncheck: error: --inputs ");
      assertThat(run.out()).as(spec).isEmpty();
    }
    CliRun mixed = CliRun.of("check", MODEL, "--inputs", INPUTS, "--inputs", "x=1");
    assertThat(mixed.exitCode()).isEqualTo(2);
    assertThat(mixed.err()).contains("a file without NAME= is the model's single input");
  }

  @Test
  void aReportIntoAFolderIsRefusedBeforeAnythingIsPrintedOrWritten() throws IOException {
    Path keep = Files.writeString(dir.resolve("keep.txt"), "kept");
    CliRun output = CliRun.of("check", MODEL, "--inputs", INPUTS, "-o", dir.toString());
    assertThat(output.exitCode()).isEqualTo(2);
    assertThat(output.err()).startsWith("bncheck: error: --output " + dir + " is a folder");
    CliRun extra = CliRun.of("check", "samples/healthy.json", "-o", keep.toString(), "--report", "json=" + dir);
    assertThat(extra.exitCode()).isEqualTo(2);
    assertThat(extra.out()).isEmpty();
    assertThat(Files.readString(keep)).isEqualTo("kept");
    CliRun empty = CliRun.of("check", "samples/healthy.json", "-o", "");
    assertThat(empty.exitCode()).isEqualTo(2);
    assertThat(empty.err()).contains("the path is empty");
    CliRun underAFile = CliRun.of("check", "samples/healthy.json", "-o", keep.resolve("x.txt").toString());
    assertThat(underAFile.exitCode()).isEqualTo(2);
    assertThat(underAFile.err()).contains(keep + " is a file, not a folder");
  }

  @Test
  void recalibrateRefusesAReportIntoAFolderOrInsideItsOwnOutputBeforeWritingTheModel() {
    Path out = dir.resolve("fixed");
    CliRun folder = CliRun.of("recalibrate", MODEL, "--inputs", INPUTS, "--out", out.toString(), "-o", dir.toString());
    assertThat(folder.exitCode()).isEqualTo(2);
    assertThat(out).doesNotExist();
    CliRun inside = CliRun.of("recalibrate", MODEL, "--inputs", INPUTS, "--out", out.toString(), "-o",
        out.resolve("report.txt").toString());
    assertThat(inside.exitCode()).isEqualTo(2);
    assertThat(inside.err()).contains("lies inside --out");
    assertThat(out).doesNotExist();
  }

  @Test
  void recalibrateOfADumpIntoAFolderAndOutOfRangeOptionsAreNamedWithTheirValues() throws IOException {
    Path folder = Files.createDirectory(dir.resolve("dumps"));
    Files.writeString(folder.resolve("other.json"), "{}");
    CliRun run = CliRun.of("recalibrate", "samples/stale.json", "--out", folder.toString(), "--force");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("is a folder; the fixed dump is one file");
    assertThat(folder.resolve("other.json")).hasContent("{}");
    CliRun heldOut = CliRun.of("recalibrate", "samples/stale.json", "--out", dir.resolve("f.json").toString(),
        "--held-out", "1");
    assertThat(heldOut.err()).startsWith("bncheck: error: --held-out must be in [0, 1), got 1.0");
    CliRun batch = CliRun.of("recalibrate", "samples/stale.json", "--out", dir.resolve("f.json").toString(),
        "--batch-size", "0");
    assertThat(batch.err()).startsWith("bncheck: error: --batch-size must be at least 1, got 0");
  }

  @Test
  void recalibrateWritesItsReportInTheFormatTheExtensionNames() throws IOException {
    Path report = dir.resolve("r.json");
    CliRun run = CliRun.of("recalibrate", "samples/stale.json", "--out", dir.resolve("fixed.json").toString(),
        "-o", report.toString());
    assertThat(run.exitCode()).isIn(0, 1);
    assertThat(Files.readString(report)).startsWith("{");
  }

  @Test
  void optionsOnlyARunReadsAreRefusedForADumpUnlessAConfigSetsThem() throws IOException {
    for (String[] option : new String[][] {{"--batch-size", "8"}, {"--max-samples", "10"},
        {"--batch-order", "file"}, {"--training-view-samples", "64"}}) {
      CliRun run = CliRun.of("check", "samples/healthy.json", option[0], option[1]);
      assertThat(run.exitCode()).as(option[0]).isEqualTo(2);
      assertThat(run.err()).as(option[0]).startsWith("bncheck: error: " + option[0] + " applies to TensorFlow and ONNX models");
    }
    // a dump may record its training view: whether to use it applies
    assertThat(CliRun.of("check", "samples/healthy.json", "--training-view", "never").exitCode()).isZero();
    // a project's config holds defaults for every kind of model it checks
    Path config = Files.writeString(dir.resolve("bncheck.json"), "{\"calibration\": {\"batch_size\": 8}}");
    assertThat(CliRun.of("check", "--config", config.toString(), "samples/healthy.json").exitCode()).isZero();
  }

  @Test
  void anEmptyAllowedOpAndAnIgnoreOfAnUnknownCodeAreRefused() throws IOException {
    CliRun op = CliRun.of("check", "samples/healthy.json", "--allow-op", "");
    assertThat(op.exitCode()).isEqualTo(2);
    assertThat(op.err()).contains("--allow-op needs an op name");
    Path config = Files.writeString(dir.resolve("c.json"),
        "{\"ignore\": [{\"code\": \"BN999\", \"reason\": \"x\"}]}");
    CliRun ignore = CliRun.of("check", "--config", config.toString(), "samples/healthy.json");
    assertThat(ignore.exitCode()).isEqualTo(3);
    assertThat(ignore.err()).contains("ignore[0].code", "unknown finding code BN999", "BN001 to BN013");
  }

  @Test
  void anInputNodeForAnOnnxModelIsAUsageError() {
    CliRun run = CliRun.of("check", "src/test/resources/onnx/cnn-eval.onnx", "--inputs",
        "src/test/resources/onnx/calibration.npy", "--input-node", "x:0");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--input-node: applies to TensorFlow models only");
  }

  @Test
  void contradictoryThresholdsFromTheConfigNameTheFileAndKey() throws IOException {
    Path config = Files.writeString(dir.resolve("c.json"), "{\"thresholds\": {\"mean_shift_warn\": 0.6}}");
    CliRun run = CliRun.of("check", "--config", config.toString(), "samples/healthy.json");
    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.err()).startsWith("bncheck: error: " + config + ": thresholds.mean_shift_warn: the mean shift error"
        + " threshold is below the warning threshold");
    // the command line settles it
    assertThat(CliRun.of("check", "--config", config.toString(), "samples/healthy.json", "--mean-shift-error", "0.7")
        .exitCode()).isZero();
    CliRun cli = CliRun.of("check", "samples/healthy.json", "--mean-shift-warn", "0.7");
    assertThat(cli.exitCode()).isEqualTo(2);
  }
}
