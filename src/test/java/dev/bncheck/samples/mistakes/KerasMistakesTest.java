package dev.bncheck.samples.mistakes;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The famous BN mistakes reproduced as real Keras 3 SavedModels by scripts/make_keras_mistakes.py
 * (samples/tf-bn-mistakes/keras-*), each checked on calibration data of the distribution it is used on.
 */
class KerasMistakesTest {

  private static final Path ROOT = Path.of("samples", "tf-bn-mistakes");

  private static BnCheckRun check(String variant, String inputs) {
    return BnCheckRun.check(ROOT.resolve(variant), ROOT.resolve("keras-data").resolve(inputs));
  }

  /** Trained with model.fit, BN momentum 0.9: 99% held-out accuracy at batch 64 and at batch 1. */
  @Test
  void healthyModelPasses() {
    BnCheckRun run = check("keras-healthy", "inputs.npy");
    assertThat(run.stderr()).isEmpty();
    assertThat(run.exitCode()).isZero();
    assertThat(run.codesAndLayers()).isEmpty();
  }

  /** Exported without training: moving statistics still 0 and 1 in every layer. */
  @Test
  void untrainedModelGetsBn001OnEveryLayer() {
    BnCheckRun run = check("keras-untrained", "inputs.npy");
    assertThat(run.stderr()).isEmpty();
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.codesAndLayers()).filteredOn(f -> f.startsWith("BN001 "))
        .containsExactly("BN001 untrained/bn1", "BN001 untrained/bn2");
    assertThat(run.codesAndLayers()).allMatch(f -> f.startsWith("BN001 ") || f.startsWith("BN004 "));
  }

  /**
   * BN frozen (trainable=False) while a new head was fine-tuned on darker, lower-contrast images:
   * the statistics are those of the pretraining data. On the new data the first layer's statistics
   * are off (BN003, the cause); the second layer's own statistics fit in the training view, so it
   * gets only the output-level BN004. 74% held-out accuracy, against 99.8% with BN unfrozen.
   */
  @Test
  void frozenTransferModelGetsBn011OnTheNewData() {
    BnCheckRun run = check("keras-frozen-transfer", "transfer-inputs.npy");
    assertThat(run.stderr()).isEmpty();
    assertThat(run.exitCode()).isEqualTo(1);
    // the new data's contrast is 0.45 of the pretraining data's in every channel: the data is named,
    // and the layers' own findings are its consequences
    assertThat(run.codesAndLayers()).contains("BN003 pretrained/bn1", "BN011 calibration data");
    assertThat(run.codesAndLayers()).allMatch(f -> f.startsWith("BN003 ") || f.startsWith("BN004 ")
        || f.startsWith("BN011 "));
    // a modest factor alike in every channel is a scaling or another domain, named alike, not
    // preprocessing first; lagging statistics would differ by channel
    assertThat(run.stdout()).contains("Two causes fit one factor alike in every channel (confidence medium)")
        .contains("or data from another domain than the statistics");
  }

  /** The same frozen model on the data its BN statistics were computed on is fine. */
  @Test
  void frozenTransferModelPassesOnThePretrainingData() {
    BnCheckRun run = check("keras-frozen-transfer", "inputs.npy");
    assertThat(run.stderr()).isEmpty();
    assertThat(run.exitCode()).isZero();
    assertThat(run.codesAndLayers()).isEmpty();
  }

  /**
   * Serving endpoint calls model(x, training=True): batch statistics at inference. Held-out
   * accuracy 99% at batch 64, 21% (chance: 25%) at batch 1. The SavedModel holds two handles per
   * moving statistic, only one of them restored; this model once made bncheck read the other.
   */
  @Test
  void trainingTrueModelGetsBn002AndBn005() {
    BnCheckRun run = check("keras-training-true", "inputs.npy");
    assertThat(run.stderr()).isEmpty();
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.codesAndLayers()).anyMatch(f -> f.startsWith("BN002 "));
    assertThat(run.codesAndLayers()).anyMatch(f -> f.startsWith("BN005 "));
  }
}
