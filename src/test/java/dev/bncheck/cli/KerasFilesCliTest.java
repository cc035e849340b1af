package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** bncheck's verdicts on Keras model files (src/test/resources/keras-files), through the command line. */
class KerasFilesCliTest {

  private static final String DIR = "src/test/resources/keras-files/";

  @TempDir Path tmp;

  static Stream<Arguments> inspected() {
    return Stream.of("keras", "h5").flatMap(ext -> Stream.of(
        Arguments.of("healthy." + ext, ExitCodes.PASS, List.of()),
        Arguments.of("untrained." + ext, ExitCodes.FINDINGS, List.of("BN001 bn1", "BN001 bn2")),
        Arguments.of("few-steps." + ext, ExitCodes.PASS, List.of("BN012 bn2")),
        Arguments.of("frozen." + ext, ExitCodes.PASS, List.of())));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inspected")
  void inspectGivesEachFileItsVerdict(String file, int exitCode, List<String> findings) throws IOException {
    CliRun run = CliRun.of("inspect", DIR + file, "--format", "json");
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isEqualTo(exitCode);
    assertThat(SampleVerdictsTest.findings(run.out())).containsExactlyElementsOf(findings);
  }

  static Stream<Arguments> checked() {
    return Stream.of("keras", "h5").flatMap(ext -> Stream.of(
        Arguments.of("healthy." + ext, "dump-healthy.json", ExitCodes.PASS, List.of()),
        Arguments.of("untrained." + ext, "dump-untrained.json", ExitCodes.FINDINGS,
            List.of("BN001 bn1", "BN004 bn1", "BN001 bn2", "BN004 bn2"))));
  }

  @ParameterizedTest(name = "{0} --inputs {1}")
  @MethodSource("checked")
  void checkTakesTheActivationsOfADumpByLayerName(String file, String dump, int exitCode, List<String> findings)
      throws IOException {
    CliRun run = CliRun.of("check", DIR + file, "--inputs", DIR + dump, "--format", "json");
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isEqualTo(exitCode);
    assertThat(SampleVerdictsTest.findings(run.out())).containsExactlyElementsOf(findings);
    assertThat(run.out()).contains("\"source\": \"" + DIR + dump + "\"").doesNotContain("BN003, BN004, BN010");
  }

  @Test
  void frozenLayerOfANestedBaseModelIsNamedAfterItAndSaysItIsFrozen() {
    CliRun run = CliRun.of("inspect", DIR + "frozen.keras", "--format", "json");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("\"name\": \"base/base_bn\"")
        .contains("\"origin\": \"model.weights.h5: layers/functional/layers/batch_normalization/vars; frozen"
            + " (trainable: false), as when fine-tuning: training leaves its moving statistics as they were\"")
        .contains("\"origin\": \"model.weights.h5: layers/batch_normalization/vars\"");
  }

  @Test
  void dumpOfAnotherModelIsRefusedNamingTheLayersEachSide() {
    CliRun run = CliRun.of("check", DIR + "frozen.keras", "--inputs", DIR + "dump-healthy.json");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).isEqualTo("bncheck: error: " + DIR + "dump-healthy.json: layers[0].name: no BN layer named"
        + " \"bn1\" in " + DIR + "frozen.keras (its BN layers: base/base_bn, head_bn)\n");
  }

  /** A weights-only file: BN001 from the statistics alone, and a dump's activations for the trained one. */
  @Test
  void weightsOnlyFilesAreInspectedAndCheckedWithKerasDefaultsAssumed() {
    CliRun untrained = CliRun.of("inspect", DIR + "untrained-keras2.weights.h5");
    assertThat(untrained.exitCode()).as(untrained.err()).isEqualTo(1);
    assertThat(untrained.out()).contains("[BN001] error bn1", "[BN001] error bn2",
        "epsilon 0.001 (Keras's default), momentum 0.99 (Keras's default) and the last axis as channels assumed");
    CliRun healthy = CliRun.of("check", DIR + "healthy.weights.h5", "--inputs", DIR + "dump-healthy.json");
    assertThat(healthy.exitCode()).as(healthy.out() + healthy.err()).isZero();
    assertThat(healthy.out()).contains("data: " + DIR + "dump-healthy.json");
  }

  /** A subclassed model saved before training: BN001 on the three BN layers found among its weights. */
  @Test
  void anUntrainedSubclassedModelGetsBn001OnEveryBnLayer() {
    CliRun run = CliRun.of("inspect", DIR + "subclassed-untrained.keras");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    assertThat(run.out()).contains("[BN001] error batch_normalization:", "[BN001] error norm:",
        "[BN001] error sequential/inner_bn:", "a subclassed model");
  }

  /**
   * A dump that counts the channel axis from the front (3, as keras.applications' ResNet sets it)
   * names the axis the model counts from the back (-1) for NHWC activations: it was refused.
   */
  @Test
  void aDumpsChannelAxisCountedFromTheFrontIsTheSameAxis(@org.junit.jupiter.api.io.TempDir Path dir)
      throws java.io.IOException {
    Path dump = dir.resolve("axis3.json");
    java.nio.file.Files.writeString(dump, java.nio.file.Files.readString(Path.of(DIR + "dump-healthy.json"))
        .replace("\"channel_axis\": -1", "\"channel_axis\": 3"));
    CliRun run = CliRun.of("check", DIR + "healthy.weights.h5", "--inputs", dump.toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
  }

  /** A dump whose momentum differs from the one the Keras config records was accepted in silence. */
  @Test
  void aDumpWhoseMomentumDiffersFromTheConfigsIsAnInputError(@TempDir Path dir) throws IOException {
    Path tampered = Files.writeString(dir.resolve("m.json"), Files.readString(Path.of(DIR + "dump-healthy.json"))
        .replaceFirst("\"momentum\": 0\\.9\\b", "\"momentum\": 0.5"));
    CliRun run = CliRun.of("check", DIR + "healthy.keras", "--inputs", tampered.toString());
    assertThat(run.exitCode()).as(run.out()).isEqualTo(3);
    assertThat(run.err()).startsWith("bncheck: error: " + tampered + ": layers[0].momentum: 0.5 in the dump, 0.9 for"
        + " the model's layer \"bn1\"");
  }

  /**
   * A weights-only file records no axis, epsilon or momentum; the dump of the running model does.
   * A channels-first model's file assumed the last axis and Keras's defaults, and its own dump was
   * refused ("channel_axis: 1 differs from the model's channel axis -1").
   */
  @Test
  void aWeightsOnlyFileTakesAxisEpsilonAndMomentumFromItsDump() throws IOException {
    CliRun run = CliRun.of("check", DIR + "channels-first.weights.h5", "--inputs", DIR + "channels-first.bn.json",
        "--format", "json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode report = new ObjectMapper().readTree(run.out());
    assertThat(report.at("/model/format").asText()).endsWith("epsilon, momentum and channel axis read from the"
        + " calibration dump " + DIR + "channels-first.bn.json: the file does not record them");
    JsonNode layer = report.at("/layers/0");
    assertThat(layer.get("channel_axis").asInt()).isEqualTo(1);
    assertThat(layer.get("epsilon").asDouble()).isEqualTo(0.01, within(1e-9));
    assertThat(layer.get("momentum").asDouble()).isEqualTo(0.9, within(1e-9));
    assertThat(report.at("/findings").size()).as(run.out()).isZero();

    CliRun flags = CliRun.of("inspect", DIR + "channels-first.weights.h5", "--epsilon", "0.5");
    assertThat(flags.out()).contains("epsilon 0.5 (--epsilon), momentum 0.99 (Keras's default) and the last axis as"
        + " channels assumed");
  }

  @Test
  void checkWithoutADumpSaysThereIsNoDataAndRunsTheStaticChecks() {
    CliRun run = CliRun.of("check", DIR + "untrained.keras");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(run.out()).contains("data: none (give --inputs DUMP, a dump whose layers carry \"inputs\")")
        .doesNotContain("embedded in model").contains("[BN001] error bn1");
  }

  @Test
  void recalibrateRefusesAKerasFileAndPointsToTheExporters() {
    Path out = tmp.resolve("fixed.keras");
    CliRun run = CliRun.of("recalibrate", DIR + "untrained.keras", "--inputs", DIR + "dump-untrained.json",
        "--out", out.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: recalibrate takes a TensorFlow SavedModel directory, an ONNX model or a"
        + " bncheck JSON dump; from a Keras model write one with model.export(DIR) or scripts/bn_dump_keras.py (docs/exporters.md)");
    assertThat(out).doesNotExist();
  }

  @Test
  void hostileFileEndsWithOneLineAndWritesNothing() throws IOException {
    Path report = tmp.resolve("report.json");
    String file = DIR + "hostile/huge-contiguous.h5";
    CliRun run = CliRun.of("check", file, "--report", "json=" + report);
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).isEqualTo("bncheck: error: " + file + ": model_weights/bn1/bn1/moving_mean: declares"
        + " 1099511627776 channels; bncheck reads 1 to 1048576 (moving_mean of BN layer \"bn1\")\n");
    assertThat(report).doesNotExist();
    try (var left = Files.list(tmp)) {
      assertThat(left).isEmpty();
    }
  }
}
