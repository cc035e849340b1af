package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * bncheck's verdicts on PyTorch checkpoints that real PyTorch wrote (scripts/make_pytorch_checkpoints.py),
 * through the command line: every form of each variant gets the same findings and exit code.
 */
class PytorchCheckpointsCliTest {

  static final Path DIR = Path.of("src/test/resources/pytorch");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path temp;

  static Stream<Arguments> inspected() {
    List<Arguments> cases = new ArrayList<>();
    for (String form : new String[] {"-state_dict.pt", "-checkpoint.pt", "-module.pt", ".safetensors"}) {
      cases.add(Arguments.of("trained" + form, 0, List.of()));
      cases.add(Arguments.of("frozen-bn" + form, 0, List.of()));
      cases.add(Arguments.of("untrained" + form, 1, List.of("BN001 bn1", "BN001 bn2")));
      // five updates at momentum 0.1: 41% of the way, from the count alone
      cases.add(Arguments.of("few-steps" + form, 0, List.of("BN012 bn1", "BN012 bn2")));
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "inspect {0}")
  @MethodSource("inspected")
  void inspectGivesEachVariantItsVerdictInEveryForm(String file, int exitCode, List<String> findings)
      throws IOException {
    CliRun run = CliRun.of("inspect", DIR.resolve(file).toString(), "--format", "json");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(exitCode);
    assertThat(findings(run)).containsExactlyElementsOf(findings);
  }

  @Test
  void aFewStepsAreReportedWithTheFractionTheAverageMoved() {
    CliRun run = CliRun.of("inspect", DIR.resolve("few-steps-state_dict.pt").toString());
    assertThat(run.out()).contains("[BN012] info bn2: num_batches_tracked records only 5 updates: if training started"
        + " from 0/1 statistics, an average at momentum 0.1 (pytorch convention) has moved 41% of the way to the data,"
        + " and its initial values still make up 59% of the moving statistics; fine-tuning from weights saved without"
        + " the counter restarts it at 0, so the count alone does not tell");
    assertThat(run.out()).contains("epsilon 1e-05 (PyTorch's default) and momentum 0.1 (PyTorch's default) assumed");
  }

  @Test
  void checkPairsTheCheckpointWithTheActivationsOfADump() throws IOException {
    CliRun healthy = CliRun.of("check", DIR.resolve("trained-state_dict.pt").toString(), "--inputs",
        DIR.resolve("trained.bn.json").toString(), "--format", "json");
    assertThat(healthy.exitCode()).as(healthy.err()).isZero();
    assertThat(findings(healthy)).isEmpty();
    JsonNode layers = JSON.readTree(healthy.out()).get("layers");
    assertThat(layers.get(1).path("metrics").isMissingNode()).as(healthy.out()).isFalse();

    CliRun stale = CliRun.of("check", DIR.resolve("few-steps-module.pt").toString(), "--inputs",
        DIR.resolve("few-steps.bn.json").toString());
    // 32 samples in two batches cannot decide (shifts tested in the moving spread, 9 times the data's,
    // are within chance): the count the framework kept makes the stale layer a warning, and BN004
    // asks for more data instead of failing the model
    assertThat(stale.exitCode()).as(stale.err()).isZero();
    assertThat(stale.out()).contains("[BN004] info bn2: too little calibration data to judge")
        .containsPattern("about \\d+ samples are needed");
    assertThat(stale.out()).contains("[BN003] warning bn2: too little calibration data to judge the moving statistics")
        .contains("num_batches_tracked records only 5 updates, after which an average that started at 0/1 still"
            + " holds 59% of its initial values");
  }

  /**
   * A state_dict records no eps or momentum; the dump of the running module does. bn1 was built
   * with eps=1e-3 and momentum=0.01, bn2 with momentum=None (a cumulative average): both were judged
   * with PyTorch's defaults (1e-5, 0.1) although the dump beside them said otherwise.
   */
  @Test
  void aStateDictTakesEpsilonAndMomentumFromItsDump() throws IOException {
    Path dump = DIR.resolve("own-conventions.bn.json");
    CliRun run = CliRun.of("check", DIR.resolve("own-conventions-state_dict.pt").toString(), "--inputs",
        dump.toString(), "--format", "json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode report = JSON.readTree(run.out());
    assertThat(report.at("/model/format").asText()).endsWith("; epsilon and momentum read from the calibration dump "
        + dump + ": the file does not record them");
    JsonNode bn1 = report.at("/layers/0");
    assertThat(bn1.get("epsilon").asDouble()).isEqualTo(1e-3, within(1e-12));
    assertThat(bn1.get("momentum").asDouble()).isEqualTo(0.01, within(1e-12));
    assertThat(bn1.get("momentum_convention").asText()).isEqualTo("pytorch");
    JsonNode bn2 = report.at("/layers/1");
    assertThat(bn2.get("epsilon").asDouble()).isEqualTo(1e-5, within(1e-15));
    assertThat(bn2.get("momentum").isNull()).as(bn2.toString()).isTrue();

    CliRun given = CliRun.of("inspect", DIR.resolve("own-conventions-state_dict.pt").toString(), "--momentum", "0.2");
    assertThat(given.out()).contains("epsilon 1e-05 (PyTorch's default) and momentum 0.2 (--momentum) assumed");
    CliRun agreeing = CliRun.of("check", DIR.resolve("trained-state_dict.pt").toString(), "--inputs",
        DIR.resolve("trained.bn.json").toString(), "--epsilon", "1e-5", "--format", "json");
    assertThat(JSON.readTree(agreeing.out()).at("/model/format").asText()).contains("read from the calibration dump "
        + DIR.resolve("trained.bn.json") + ", but epsilon 1e-05 from --epsilon");
    // a momentum the dump contradicts would judge the activations with conventions they never met
    CliRun contradicting = CliRun.of("check", DIR.resolve("own-conventions-state_dict.pt").toString(), "--inputs",
        dump.toString(), "--momentum", "0.2");
    assertThat(contradicting.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(contradicting.err()).isEqualTo("bncheck: error: " + dump + ": layers[0].momentum: 0.01 in the dump,"
        + " 0.2 for the model's layer \"bn1\": the activations were recorded from another model, or the model was"
        + " given another momentum (by " + DIR.resolve("own-conventions-state_dict.pt") + ", --epsilon/--momentum or"
        + " a config) than it ran with" + System.lineSeparator());
  }

  /** A dump whose epsilon differs from the one the whole module records was accepted in silence. */
  @Test
  void aDumpWhoseEpsilonDiffersFromTheModulesIsAnInputError() throws IOException {
    Path tampered = Files.writeString(temp.resolve("eps.bn.json"), Files.readString(DIR.resolve("trained.bn.json"))
        .replace("\"epsilon\": 1e-05", "\"epsilon\": 0.5"));
    CliRun run = CliRun.of("check", DIR.resolve("trained-module.pt").toString(), "--inputs", tampered.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).startsWith("bncheck: error: " + tampered + ": layers[0].epsilon: 0.5 in the dump, 1e-05 for"
        + " the model's layer \"bn1\"");
  }

  /** Activations recorded from the few-steps model are no data for the trained one, though every name matches. */
  @Test
  void aDumpRecordedFromAnotherCheckpointIsAnInputError() {
    CliRun run = CliRun.of("check", DIR.resolve("trained-state_dict.pt").toString(), "--inputs",
        DIR.resolve("few-steps.bn.json").toString());
    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.err()).startsWith("bncheck: error: " + DIR.resolve("few-steps.bn.json") + ": layers[0].moving_mean: ")
        .contains("differs from the model's", "the activations were recorded from another model, or another checkpoint"
            + " of it; record them from this one")
        .doesNotContain("\tat ");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void checkWithoutInputsSaysThereIsNoData() {
    CliRun run = CliRun.of("check", DIR.resolve("trained.safetensors").toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("data: none (give --inputs DUMP, a dump whose layers carry \"inputs\")");
  }

  @Test
  void aDumpOfOtherLayerNamesIsRefusedNamingBoth() throws IOException {
    Path renamed = temp.resolve("renamed.bn.json");
    Files.writeString(renamed, Files.readString(DIR.resolve("trained.bn.json"))
        .replace("\"name\": \"bn1\"", "\"name\": \"module.bn1\""));
    Path model = DIR.resolve("trained-state_dict.pt");
    CliRun run = CliRun.of("check", model.toString(), "--inputs", renamed.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).isEqualTo("bncheck: error: " + renamed + ": layers[0].name: no BN layer named \"module.bn1\""
        + " in " + model + " (its BN layers: bn1, bn2)" + System.lineSeparator());
  }

  @Test
  void epsilonAndMomentumOptionsAreUsedAndReported() {
    CliRun run = CliRun.of("inspect", DIR.resolve("few-steps-state_dict.pt").toString(), "--momentum", "0.01",
        "--epsilon", "0.001");
    // at momentum 0.01 five updates move the average 4.9% of the way
    assertThat(run.out()).contains("epsilon 0.001 (--epsilon) and momentum 0.01 (--momentum) assumed")
        .contains("has moved 4.9% of the way");
    CliRun bad = CliRun.of("inspect", DIR.resolve("trained.safetensors").toString(), "--momentum", "1.5");
    assertThat(bad.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(bad.err()).contains("--momentum must be in (0, 1], got 1.5");
  }

  @Test
  void theConfigFileSetsTheAssumedMomentum() throws IOException {
    Path config = Files.writeString(temp.resolve("bncheck.json"), "{\"pytorch\": {\"momentum\": 0.01}}");
    CliRun run = CliRun.of("inspect", DIR.resolve("trained-state_dict.pt").toString(), "--config", config.toString());
    assertThat(run.out()).contains("momentum 0.01 (--momentum) assumed");
  }

  @Test
  void recalibrateRefusesACheckpointAndPointsToTheExporter() {
    CliRun run = CliRun.of("recalibrate", DIR.resolve("few-steps-state_dict.pt").toString(), "--inputs",
        DIR.resolve("few-steps.bn.json").toString(), "--out", temp.resolve("out.pt").toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).contains("from a PyTorch checkpoint write a dump with scripts/bn_dump_pytorch.py"
        + " (docs/exporters.md) and recalibrate that");
    assertThat(temp.resolve("out.pt")).doesNotExist();
  }

  static Stream<Arguments> hostile() {
    return Stream.of(
        Arguments.of("os-system.pt", "os-system/data.pkl at byte 1294: calls posix.system, which is not among"),
        Arguments.of("builtins-eval.pt", "builtins-eval/data.pkl at byte 1302: calls builtins.eval, which is not"),
        Arguments.of("subprocess-popen.pt", "subprocess-popen/data.pkl at byte 1290: calls subprocess.Popen, which"),
        Arguments.of("legacy.pt", "a torch.save file in the format before PyTorch 1.6, which bncheck does not read:"
            + " load it and save it again with a current PyTorch"),
        Arguments.of("torchscript.pt", "a TorchScript archive (torch.jit.save), which holds code"),
        // a legitimate file, but one with nothing to judge yet: it was refused as if it called a hostile function
        Arguments.of("lazy-uninitialized.pt", "lazy-uninitialized/data.pkl at byte 311: a lazy module's"
            + " uninitialized parameter (torch.nn.parameter.UninitializedParameter): a LazyBatchNorm or other lazy"
            + " layer saved before its first forward pass has no shape and no values yet"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostile")
  void hostileCheckpointsAreRefusedInOneLineAndNothingIsWritten(String file, String message) {
    Path model = DIR.resolve("hostile").resolve(file);
    Path report = temp.resolve("report.json");
    for (String command : new String[] {"inspect", "check"}) {
      CliRun run = CliRun.of(command, model.toString(), "--output", report.toString());
      assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.INVALID_INPUT);
      assertThat(run.err()).startsWith("bncheck: error: " + model + ": " + message).doesNotContain("\tat ");
      assertThat(run.err().strip().lines()).hasSize(1);
      assertThat(run.out()).isEmpty();
      assertThat(report).doesNotExist();
    }
  }

  private static List<String> findings(CliRun run) throws IOException {
    List<String> out = new ArrayList<>();
    for (JsonNode f : JSON.readTree(run.out()).get("findings")) {
      out.add(f.get("code").asText() + " " + f.get("layer").asText());
    }
    return out;
  }
}
