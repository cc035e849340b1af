package dev.bncheck.load.tensorflow;

import dev.bncheck.cli.CliRun;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The textbook TF1 pattern, BN inside tf.cond(is_training, ...) with is_training a
 * placeholder_with_default(False) the signature does not feed, exported by Python TensorFlow
 * (fixtures from scripts/make_tf_cond_bn.py).
 */
class CondPatternTest {

  private static final Path DIR = Path.of("src/test/resources/tf-cond-bn");

  private static CliRun check(String model) {
    return CliRun.of("check", DIR.resolve(model).toString(), "--inputs", DIR.resolve("data.npy").toString());
  }

  /** Resource variables read through the cond's Switch are traced to the variables; the training branch is dead. */
  @Test
  void controlFlowV1LayerIsReadThroughTheSwitchAndPasses() {
    CliRun run = check("v1");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("1 BN layer,").contains("0  bn ").doesNotContain("BN002")
        .contains("matches TensorFlow's inference-mode output");
  }

  /**
   * The layer inside the If's inference branch is found, with its restored statistics; the
   * training branch, which the unfed predicate never takes, does not count (no BN002). The
   * branches rewritten for gradients hold Optional ops, pure computation the op check accepts.
   * The taken branch runs on every sample, so its layer is calibrated and self-checked like any
   * other (it had static checks only while bncheck copied no If branch).
   */
  @Test
  void controlFlowV2LayerInsideTheTakenBranchIsCalibratedAndTheOtherIsDead() {
    CliRun run = check("v2");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.err()).doesNotContain("refused");
    assertThat(run.out()).contains("1 BN layer,").contains("0  bn ").doesNotContain("BN002")
        .contains("moving_mean -1.725/-0.8434/-0.3156")
        .contains("calibration: 1 batch, 576 values per channel")
        .contains("matches TensorFlow's inference-mode output")
        .doesNotContain("no calibration data");
  }

  /**
   * The If's predicate also depends on the data: neither branch runs on every sample, so the layer
   * keeps its static checks, its data checks say why they did not run, and the training branch the
   * data could take is BN002 (measured consistent on these samples, so a warning).
   */
  @Test
  void controlFlowV2LayerUnderADataDependentPredicateIsNotCapturedAndTheReportSaysWhy() {
    CliRun run = check("v2-data");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("1 BN layer,").contains("[BN002] warning bn:")
        .contains("BN003, BN004, BN010 (no calibration data for this layer (inside If ")
        .contains("which runs its function only for some inputs or repeatedly");
  }

  /**
   * A training-mode node the outputs do not depend on (scripts/make_tf1_unreached_training_bn.py):
   * BN002 says what bncheck measured, that the outputs are the same alone as in a batch, instead of
   * claiming they depend on the batch, and is a warning.
   */
  @Test
  void trainingModeNodeTheOutputsDoNotDependOnIsAWarningThatSaysSo() {
    CliRun run = CliRun.of("check", "src/test/resources/tf1-unreached-training-bn/model", "--synthetic", "8");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("[BN002] warning bn:")
        .contains("yet the signature's outputs measured the same alone as in a batch")
        .doesNotContain("outputs depend on the other samples").doesNotContain("[BN005]");
  }
}
