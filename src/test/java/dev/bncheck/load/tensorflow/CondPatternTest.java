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
        .contains("calibration: 1 batch, 16 samples, 576 values per channel")
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
        .contains("BN003, BN004, BN010, BN013 (no calibration data for this layer (inside If ")
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

  /**
   * is_training a plain placeholder the signature lists beside x (v1-fed): the caller chooses the
   * branch. Without data that choice is a warning naming the input (it was a BN002 error on a
   * correctly trained model); fed false for every batch, the training branch is dead and the run
   * passes; fed true, the run normalizes with batch statistics: BN002 error and BN005.
   */
  @Test
  void aModeInputTheCallerFeedsIsAWarningAndItsValueChoosesTheBranchTheRunAnalyses() {
    String model = DIR.resolve("v1-fed").toString();
    String x = "x=" + DIR.resolve("data.npy");
    CliRun inspect = CliRun.of("inspect", model);
    assertThat(inspect.exitCode()).as(inspect.err()).isZero();
    assertThat(inspect.out()).contains("[BN002] warning bn: the serving graph normalizes with batch statistics in"
        + " the branch the signature input is_training chooses (FusedBatchNormV3 in training mode at"
        + " cond/FusedBatchNormV3): whenever a caller feeds is_training the value that takes it");

    CliRun inference = CliRun.of("check", model, "--inputs", x, "--inputs", "is_training=false");
    assertThat(inference.exitCode()).as(inference.err()).isZero();
    assertThat(inference.out()).doesNotContain("BN002").doesNotContain("BN005").contains("0  bn ")
        .contains("calibration: 1 batch, 16 samples, 576 values per channel, first batch [16, 6, 6, 4]")
        .contains("matches TensorFlow's inference-mode output");

    CliRun training = CliRun.of("check", model, "--inputs", x, "--inputs", "is_training=true");
    assertThat(training.exitCode()).as(training.err()).isEqualTo(1);
    assertThat(training.out()).contains("[BN002] error bn:").contains("[BN005] error");

    CliRun synthetic = CliRun.of("check", model, "--synthetic", "8");
    assertThat(synthetic.exitCode()).as(synthetic.err()).isZero();
    assertThat(synthetic.out()).doesNotContain("BN002").contains("first batch [8, 6, 6, 4]");
  }

  /** A scalar given as a one-value .npy is fed with every batch, like NAME=VALUE (it ended in exit 4). */
  @Test
  void aScalarNpyIsFedWithEveryBatch(@org.junit.jupiter.api.io.TempDir Path dir) throws java.io.IOException {
    Path flag = dir.resolve("is_training.npy");
    java.nio.file.Files.write(flag, dev.bncheck.TestFiles.npy(new float[] {0}));
    CliRun run = CliRun.of("check", DIR.resolve("v1-fed").toString(), "--inputs", "x=" + DIR.resolve("data.npy"),
        "--inputs", "is_training=" + flag);
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).doesNotContain("BN002").contains("first batch [16, 6, 6, 4]");
  }

  /** Without the mode input, the message says how to give a single value. */
  @Test
  void aMissingModeInputIsAskedForAsNameEqualsValue() {
    CliRun run = CliRun.of("check", DIR.resolve("v1-fed").toString(), "--inputs", "x=" + DIR.resolve("data.npy"));
    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.err()).contains("the model's inputs are is_training, x").contains("is_training=false");
  }

  /**
   * BN written with tf.nn.moments and tf.nn.batch_normalization inside the cond, statistics never
   * updated (a red-team find): the training graph the export keeps also multiplies by the
   * pattern's scale (its gradients), and that product hid the input's, so no layer was found and
   * the broken model passed. Only what the signature runs counts as the pattern's consumers.
   */
  @Test
  void anUnfusedLayerBesideTheTrainingGraphIsFoundAndItsNeverUpdatedStatisticsFail() {
    String model = DIR.resolve("v1-unfused-never").toString();
    CliRun inspect = CliRun.of("inspect", model);
    assertThat(inspect.exitCode()).as(inspect.err()).isEqualTo(1);
    assertThat(inspect.out()).contains("1 BN layer,").contains("[BN001] error bn:")
        .contains("[BN002] warning bn: the serving graph normalizes with batch statistics in the branch the"
            + " signature input is_training chooses (Rsqrt pattern in training mode at cond/batchnorm/Rsqrt)");
    CliRun check = CliRun.of("check", model, "--inputs", "x=" + DIR.resolve("data.npy"), "--inputs",
        "is_training=false");
    assertThat(check.exitCode()).as(check.err()).isEqualTo(1);
    assertThat(check.out()).contains("[BN001] error bn:").contains("[BN004] error bn:")
        .contains("matches TensorFlow's inference-mode output");
  }

  /**
   * tf.case on an int32 mode input (a red-team find): its predicate is mode == 0, which the fed
   * value fixes; bncheck fetched the inference copy in the branch the run did not take, and
   * TensorFlow's "Retval[1] does not have value" read as the data's fault (exit 3).
   */
  @Test
  void aCaseOnAnIntegerModeInputRunsTheBranchItsValueTakes() {
    String model = DIR.resolve("v1-case").toString();
    String x = "x=" + DIR.resolve("data.npy");
    CliRun inspect = CliRun.of("inspect", model);
    assertThat(inspect.exitCode()).as(inspect.err()).isZero();
    assertThat(inspect.out()).contains("[BN002] warning bn: the serving graph normalizes with batch statistics in"
        + " the branch the signature input mode chooses");
    CliRun training = CliRun.of("check", model, "--inputs", x, "--inputs", "mode=0");
    assertThat(training.exitCode()).as(training.err()).isEqualTo(1);
    assertThat(training.out()).contains("[BN002] error bn:").contains("[BN005] error");
    CliRun inference = CliRun.of("check", model, "--inputs", x, "--inputs", "mode=1");
    assertThat(inference.exitCode()).as(inference.err()).isZero();
    assertThat(inference.out()).doesNotContain("BN002").contains("matches TensorFlow's inference-mode output");
  }
}
