package dev.bncheck.repair;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.load.Predictions;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RecalibrationGuardTest {

  private static Predictions all(int classValue, int samples, int outputs) {
    int[] classes = new int[samples];
    Arrays.fill(classes, classValue);
    return new Predictions(classes, outputs);
  }

  private static Predictions spread(int samples, int outputs) {
    int[] classes = new int[samples];
    Arrays.setAll(classes, i -> i % outputs);
    return new Predictions(classes, outputs);
  }

  @Test
  void oneClassForEveryHeldOutSampleOfAClassifierIsRefused() {
    assertThat(RecalibrationGuard.oneClass(spread(20, 4), all(2, 20, 4))).hasValueSatisfying(reason ->
        assertThat(reason).startsWith("with the new statistics every one of the 20 held-out samples is predicted as"
            + " class 2, where the old statistics predicted 4 classes"));
    assertThat(RecalibrationGuard.oneClass(all(2, 20, 4), all(2, 20, 4))).hasValueSatisfying(reason ->
        assertThat(reason).contains("class 2, as with the old statistics: the calibration data may hold one class"));
  }

  /** Two classes predicted, fewer than 16 samples, or a model with one output value: nothing to say. */
  @Test
  void spreadPredictionsFewSamplesOrNoClassifierPass() {
    int[] two = new int[20];
    two[7] = 1;
    assertThat(RecalibrationGuard.oneClass(spread(20, 4), new Predictions(two, 4))).isEmpty();
    assertThat(RecalibrationGuard.oneClass(spread(15, 4), all(0, 15, 4))).isEmpty();
    assertThat(RecalibrationGuard.oneClass(all(0, 20, 1), all(0, 20, 1))).isEmpty();
  }
}
