package dev.bncheck.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.model.Tensor;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * When a dump's training view is a sample of its calibration data: 1,024 rows of 4 classes whose
 * first layer's means differ by one deviation, in batches of 32.
 */
class TrainingViewSampleTest {

  /** The first 8 batches of a file sorted by class hold class 0 alone: no sample of the whole. */
  @Test
  void theFirstBatchesOfAFileSortedByClassAreNoSample() {
    Optional<String> why = TrainingViewSample.notASample(rows(32, i -> i / 256), rows(8, i -> i / 256));
    assertTrue(why.isPresent());
    assertTrue(why.get().startsWith("its first layer's means differ from those of all 1024 samples by more than"
        + " chance allows a sample of 256 (channel "), why.get());
  }

  /**
   * The same rows shuffled: the first 256 are a sample. Chance moves a channel's mean by at most
   * s sqrt(1/256 - 1/1024) = 0.054 s, and the test allows 3.0 of those per channel of 8 (a 1%
   * family-wise rate); a training view of every sample is never refused.
   */
  @Test
  void randomBatchesAndTheWholeFileAreSamples() {
    assertEquals(Optional.empty(), TrainingViewSample.notASample(rows(32, i -> i % 4), rows(8, i -> i % 4)));
    assertEquals(Optional.empty(), TrainingViewSample.notASample(rows(32, i -> i / 256), rows(32, i -> i / 256)));
  }

  /** {@code batches} batches of 32 rows, row i of class {@code classOf(i)}: mean class - 1.5, deviation 1. */
  private static LayerCalibration rows(int batches, java.util.function.IntUnaryOperator classOf) {
    CalibrationAccumulator acc = new CalibrationAccumulator();
    SplittableRandom random = new SplittableRandom(5);
    for (int b = 0; b < batches; b++) {
      float[] x = new float[32 * LayerFixture.CHANNELS];
      for (int i = 0; i < x.length; i++) {
        int row = b * 32 + i / LayerFixture.CHANNELS;
        x[i] = (float) (classOf.applyAsInt(row) - 1.5 + random.nextGaussian());
      }
      acc.accept(0, new Tensor.Float32(new int[] {32, LayerFixture.CHANNELS}, x), 1);
    }
    return acc.layer(0).orElseThrow();
  }
}
