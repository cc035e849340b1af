package dev.bncheck.load.array;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.model.Tensor;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Samples told apart by their fingerprints: four hashes over a sample's values, then one. */
class DistinctSamplesTest {

  /** Seven values a sample: four in the hashes' steps, three after them. */
  private static final int SIZE = 7;

  private static float[] base(int sample) {
    float[] values = new float[SIZE];
    for (int i = 0; i < SIZE; i++) {
      values[i] = sample * 10 + i + 0.5f;
    }
    return values;
  }

  @Test
  void repeatedSamplesCountOnce() {
    int samples = 12;
    float[] data = new float[samples * SIZE];
    for (int s = 0; s < samples; s++) {
      System.arraycopy(base(s % 4), 0, data, s * SIZE, SIZE);
    }
    Tensor.Float32 tensor = new Tensor.Float32(new int[] {samples, SIZE}, data);
    assertThat(DistinctSamples.count(Map.of("x", new InputArray.Numbers(tensor)))).isEqualTo(4);
  }

  @Test
  void aSampleThatDiffersInAnyOneValueOrInTheOrderOfTwoIsAnother() {
    int samples = SIZE + 2;
    float[] data = new float[samples * SIZE];
    for (int s = 0; s < samples; s++) {
      System.arraycopy(base(0), 0, data, s * SIZE, SIZE);
    }
    // sample 0 as it is; sample 1 + p with value p changed, in each hash and after them
    for (int p = 0; p < SIZE; p++) {
      data[(1 + p) * SIZE + p] += 1;
    }
    // the last sample with its first two values swapped, which go to different hashes
    int last = (samples - 1) * SIZE;
    data[last] = base(0)[1];
    data[last + 1] = base(0)[0];
    Tensor.Float32 tensor = new Tensor.Float32(new int[] {samples, SIZE}, data);
    assertThat(DistinctSamples.count(Map.of("x", new InputArray.Numbers(tensor)))).isEqualTo(samples);
  }

  @Test
  void float32AndFloat64OfTheSameValuesHaveTheSameFingerprints() {
    int samples = 3;
    float[] narrow = new float[samples * SIZE];
    double[] wide = new double[samples * SIZE];
    for (int i = 0; i < narrow.length; i++) {
      narrow[i] = i * 0.37f - 2;
      wide[i] = narrow[i];
    }
    Tensor.Float32 f = new Tensor.Float32(new int[] {samples, SIZE}, narrow);
    Tensor.Float64 d = new Tensor.Float64(new int[] {samples, SIZE}, wide);
    Set<Long> fingerprints = new HashSet<>();
    for (int s = 0; s < samples; s++) {
      assertThat(DistinctSamples.fingerprint(f, s, samples)).isEqualTo(DistinctSamples.fingerprint(d, s, samples));
      fingerprints.add(DistinctSamples.fingerprint(f, s, samples));
    }
    assertThat(fingerprints).hasSize(samples);
  }
}
