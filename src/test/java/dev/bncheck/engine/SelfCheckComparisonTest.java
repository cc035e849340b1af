package dev.bncheck.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Precision;
import dev.bncheck.model.Tensor;
import org.junit.jupiter.api.Test;

/** The comparison of a framework's BN output with bncheck's, on hand-computed values. */
class SelfCheckComparisonTest {

  // the layer of BatchNormOutputsTest: inference outputs of x = [[1, 10], [3, 30]] are [[0, -1], [2, 1]]
  private static final BnLayer LAYER = TestData.layer(1, new double[] {2, 1}, new double[] {1, 0},
      new double[] {2, 20}, new double[] {4, 100}, 0.0);

  private static SelfCheck compare(double[] input, double[] frameworkOutput, boolean trainingMode) {
    CalibrationAccumulator acc = new CalibrationAccumulator();
    Tensor x = new Tensor.Float64(new int[] {2, 2}, input);
    acc.accept(0, x, 1);
    acc.frameworkOutput(0, LAYER, x, new Tensor.Float64(new int[] {2, 2}, frameworkOutput), 1, trainingMode,
        Precision.FLOAT32);
    return acc.layer(0).orElseThrow().selfCheck().orElseThrow();
  }

  @Test
  void aWrongValueGivesItsDifferenceAndFails() {
    SelfCheck check = compare(new double[] {1, 10, 3, 30}, new double[] {0, -1, 2.5, 1}, false);
    assertThat(check.maxAbsDifference()).isEqualTo(0.5);
    assertThat(check.outputRms()).isCloseTo(Math.sqrt((0 + 1 + 6.25 + 1) / 4), within(1e-12));
    assertThat(check.values()).isEqualTo(4);
    assertThat(check.passed()).isFalse();
  }

  @Test
  void theFrameworksOwnOutputPassesInBothModes() {
    assertThat(compare(new double[] {1, 10, 3, 30}, new double[] {0, -1, 2, 1}, false).maxAbsDifference()).isZero();
    // training mode: channel 0 batch mean 2, biased variance 1; channel 1 mean 20, variance 100
    assertThat(compare(new double[] {1, 10, 3, 30}, new double[] {-1, -1, 3, 1}, true).maxAbsDifference()).isZero();
  }

  @Test
  void aNonFiniteInputLeavesOutItsValueAndInTrainingModeItsWholeChannel() {
    double[] input = {1, Double.NaN, 3, 30};
    double[] output = {0, 99, 2, 99}; // channel 1's values would be wrong, but are not compared
    SelfCheck inference = compare(input, output, false);
    assertThat(inference.values()).isEqualTo(3);
    assertThat(inference.maxAbsDifference()).as("the finite value 30 of channel 1 is compared").isEqualTo(98);
    SelfCheck training = compare(input, new double[] {-1, 99, 3, 99}, true);
    assertThat(training.values()).isEqualTo(2);
    assertThat(training.maxAbsDifference()).isZero();
  }
  /**
   * A constant feature of 2026 in a channel of variance 0 (epsilon 1e-3): the framework's float32
   * x * scale + shift, each term about 64,000, cancels to beta, with an error of a few thousandths
   * beside an output RMS of about 1. That is round-off (an outside tester's healthy model got an
   * internal error for it); a difference of the same size on values that do not cancel is not.
   */
  @Test
  void roundOffOfTermsThatCancelPassesAndTheSameDifferenceElsewhereFails() {
    BnLayer constant = TestData.layer(1, new double[] {1}, new double[] {0.5}, new double[] {2026},
        new double[] {0}, 1e-3);
    double scale = 1 / Math.sqrt(1e-3);
    double[] input = {2026.0001f, 2025.9999f, 2026, 2026.0002f};
    double[] output = new double[input.length];
    for (int i = 0; i < input.length; i++) {
      // float32 as a fused kernel computes it, then off by a further 0.0025: what was measured
      float y = (float) input[i] * (float) scale + (float) (0.5 - 2026 * scale);
      output[i] = y + 0.0025;
    }
    CalibrationAccumulator acc = new CalibrationAccumulator();
    Tensor x = new Tensor.Float64(new int[] {4, 1}, input);
    acc.accept(0, x, 1);
    acc.frameworkOutput(0, constant, x, new Tensor.Float64(new int[] {4, 1}, output), 1, false, Precision.FLOAT32);
    SelfCheck cancelling = acc.layer(0).orElseThrow().selfCheck().orElseThrow();
    assertThat(cancelling.maxAbsDifference()).isGreaterThan(1e-3);
    assertThat(cancelling.passed()).as("round-off of 64,000-sized terms").isTrue();

    SelfCheck plain = compare(new double[] {1, 10, 3, 30}, new double[] {0.0025, -1, 2, 1}, false);
    assertThat(plain.maxAbsDifference()).isCloseTo(0.0025, within(1e-12));
    assertThat(plain.passed()).as("0.0025 beside outputs of about 1, with terms of about 1").isFalse();
  }
}
