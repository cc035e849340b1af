package dev.bncheck.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.model.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The first batches of a layer are also kept as groups of samples, for the tails of its data. */
class CalibrationAccumulatorGroupsTest {

  @Test
  void theFirstFourBatchesAreCutIntoGroupsOfAQuarterOfTheFirstBatch() {
    CalibrationAccumulator data = new CalibrationAccumulator();
    SplittableRandom random = new SplittableRandom(11);
    data.accept(0, batch(random, 64), 1);
    data.accept(0, batch(random, 40), 1); // two groups of 16; the 8 left over are no group
    data.accept(0, batch(random, 64), 1);
    data.accept(0, batch(random, 8), 1); // fewer samples than a group
    data.accept(0, batch(random, 64), 1); // the fifth batch: the batches show the tails from here

    LayerCalibration calibration = data.layer(0).orElseThrow();
    assertThat(calibration.sampleGroups().samplesPerGroup()).isEqualTo(16);
    assertThat(calibration.sampleGroups().groups()).hasSize(4 + 2 + 4);
    assertThat(calibration.sampleGroups().groups()).allSatisfy(g -> assertThat(g.count()).containsOnly(16L * 3));
    assertThat(calibration.batches()).extracting(b -> b.count()[0]).containsExactly(64L * 3, 40L * 3, 64L * 3,
        8L * 3, 64L * 3);
  }

  @Test
  void aBatchCutIntoGroupsHasTheMomentsOfTheWholeBatch() {
    CalibrationAccumulator data = new CalibrationAccumulator();
    Tensor x = batch(new SplittableRandom(12), 50);
    data.accept(0, x, 1);

    ChannelMoments batch = data.layer(0).orElseThrow().batches().get(0);
    ChannelMoments whole = MomentsKernel.compute(x, 1);
    for (int c = 0; c < whole.channels(); c++) {
      assertThat(batch.count()[c]).isEqualTo(whole.count()[c]);
      assertThat(batch.mean()[c]).isCloseTo(whole.mean()[c], within(1e-12 * (1 + Math.abs(whole.mean()[c]))));
      assertThat(batch.m2()[c]).isCloseTo(whole.m2()[c], within(1e-12 * whole.m2()[c]));
    }
    assertThat(data.layer(0).orElseThrow().sampleGroups().groups()).hasSize(4);
  }

  @Test
  void aTensorWithoutASampleAxisHasNoGroups() {
    CalibrationAccumulator data = new CalibrationAccumulator();
    data.accept(0, new Tensor.Float32(new int[] {5}, new float[] {1, 2, 3, 4, 5}), 0);
    assertThat(data.layer(0).orElseThrow().sampleGroups()).isEqualTo(SampleGroups.NONE);
  }

  /** {@code samples} samples of [samples, 5, 3] (channels on axis 1), offset per channel. */
  private static Tensor batch(SplittableRandom random, int samples) {
    float[] x = new float[samples * 5 * 3];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (10 * ((i / 3) % 5) + random.nextGaussian());
    }
    return new Tensor.Float32(new int[] {samples, 5, 3}, x);
  }
}
