package dev.bncheck.engine;

import static dev.bncheck.engine.AllClose.assertAllClose;
import static dev.bncheck.engine.AllClose.assertClose;
import static dev.bncheck.engine.TestData.biasedVariances;
import static dev.bncheck.engine.TestData.channelOf;
import static dev.bncheck.engine.TestData.layer;
import static dev.bncheck.engine.TestData.tensor;
import static dev.bncheck.engine.TestData.toFloats;
import static dev.bncheck.engine.TestData.unbiasedVariances;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.model.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class MomentsKernelTest {

  @Test
  void momentsOfATinyBatchEqualHandComputedValues() {
    // x = [[1, 2, 4],
    //      [3, 2, 8]]
    // channel axis 1: columns
    //   [1, 3]: mean 2, M2 = 1 + 1 = 2,  biased 2/2 = 1, unbiased 2/1 = 2
    //   [2, 2]: mean 2, M2 = 0,          biased 0,       unbiased 0
    //   [4, 8]: mean 6, M2 = 4 + 4 = 8,  biased 8/2 = 4, unbiased 8/1 = 8
    // channel axis 0: rows
    //   [1, 2, 4]: mean 7/3,  deviations -4/3, -1/3, 5/3:  M2 = 42/9,  biased 14/9, unbiased 7/3
    //   [3, 2, 8]: mean 13/3, deviations -4/3, -7/3, 11/3: M2 = 186/9, biased 62/9, unbiased 31/3
    double[] x = {1, 2, 4, 3, 2, 8};
    for (Tensor t : List.of(new Tensor.Float64(new int[] {2, 3}, x), new Tensor.Float32(new int[] {2, 3}, toFloats(x)))) {
      ChannelMoments columns = MomentsKernel.compute(t, 1);
      assertThat(columns.count()).containsExactly(2, 2, 2);
      assertThat(columns.nonFinite()).containsExactly(0, 0, 0);
      assertAllClose(t.dtype() + " axis 1 mean", columns.mean(), new double[] {2, 2, 6}, Tolerances.HAND_COMPUTED, 0);
      assertAllClose(t.dtype() + " axis 1 M2", columns.m2(), new double[] {2, 0, 8}, Tolerances.HAND_COMPUTED, 0);
      assertAllClose(t.dtype() + " axis 1 biased", biasedVariances(columns), new double[] {1, 0, 4}, Tolerances.HAND_COMPUTED, 0);
      assertAllClose(t.dtype() + " axis 1 unbiased", unbiasedVariances(columns), new double[] {2, 0, 8}, Tolerances.HAND_COMPUTED, 0);

      ChannelMoments rows = MomentsKernel.compute(t, 0);
      assertThat(rows.count()).containsExactly(3, 3);
      assertAllClose(t.dtype() + " axis 0 mean", rows.mean(), new double[] {7.0 / 3, 13.0 / 3}, Tolerances.HAND_COMPUTED, 0);
      assertAllClose(t.dtype() + " axis 0 biased", biasedVariances(rows), new double[] {14.0 / 9, 62.0 / 9}, Tolerances.HAND_COMPUTED, 0);
      assertAllClose(t.dtype() + " axis 0 unbiased", unbiasedVariances(rows), new double[] {7.0 / 3, 31.0 / 3}, Tolerances.HAND_COMPUTED, 0);
    }
  }

  static Stream<Arguments> everyRankAndChannelAxis() {
    List<Arguments> cases = new ArrayList<>();
    for (int rank = 2; rank <= 5; rank++) {
      for (int axis = -rank; axis < rank; axis++) {
        cases.add(Arguments.of(rank, axis, true));
        cases.add(Arguments.of(rank, axis, false));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "rank {0}, channel axis {1}, float32 {2}")
  @MethodSource("everyRankAndChannelAxis")
  void momentsMatchNd4jForEveryRankAndChannelAxis(int rank, int axis, boolean float32) {
    long seed = 1000L * rank + 10L * (axis + rank) + (float32 ? 1 : 0);
    Random random = new Random(seed);
    int[] shape = new int[rank];
    for (int i = 0; i < rank; i++) {
      shape[i] = 2 + random.nextInt(3);
    }
    // The axis as a layer states it may count from the end; compute takes it resolved.
    int channels = shape[Math.floorMod(axis, rank)];
    int resolved = layer(axis, new double[channels], new double[channels], new double[channels], new double[channels], 1e-3)
        .resolveChannelAxis(rank);
    assertThat(resolved).isEqualTo(Math.floorMod(axis, rank));
    Tensor x = channelShiftedNormal(shape, resolved, float32, random);

    ChannelMoments actual = MomentsKernel.compute(x, resolved);
    Nd4jBatchNorm.Moments expected = Nd4jBatchNorm.moments(x, resolved);

    String what = Arrays.toString(shape) + " axis " + resolved + " " + x.dtype();
    long perChannel = x.size() / channels;
    assertThat(actual.channels()).isEqualTo(channels);
    for (int c = 0; c < channels; c++) {
      assertThat(actual.count()[c]).isEqualTo(perChannel);
      assertThat(actual.nonFinite()[c]).isZero();
      double scale = Math.abs(expected.mean()[c]) + Math.sqrt(expected.biasedVariance()[c]);
      assertClose(what + " mean[" + c + "]", actual.mean()[c], expected.mean()[c],
          Tolerances.MOMENTS_VS_ND4J_RELATIVE * scale, 0);
    }
    assertAllClose(what + " biased variance", biasedVariances(actual), expected.biasedVariance(),
        0, Tolerances.MOMENTS_VS_ND4J_RELATIVE);
    assertAllClose(what + " unbiased variance", unbiasedVariances(actual), expected.unbiasedVariance(),
        0, Tolerances.MOMENTS_VS_ND4J_RELATIVE);
  }

  @ParameterizedTest(name = "float32 {0}")
  @ValueSource(booleans = {false, true})
  void varianceStaysExactWhenTheMeanIsLargeAgainstTheSpread(boolean float32) {
    // Means 1e4, -2e4, 3e4, standard deviation 0.1: sum(x^2) is ~1e8 per value while M2 is
    // ~1e-2 per value, so a naive one-pass sum of squares cancels ten digits. The channel means
    // differ so that shifting a channel by another channel's value would show. Both the kernel's
    // last-axis loop (NHWC, inner = 1) and its channel-first loop are exercised.
    double[] channelMeans = {1e4, -2e4, 3e4};
    Random random = new Random(7);
    int axis = 1;
    for (int[] shape : new int[][] {{4096, 3}, {8, 3, 16, 32}}) {
      int size = (int) Tensor.elementCount(shape);
      double[] values = new double[size];
      for (int i = 0; i < size; i++) {
        values[i] = channelMeans[channelOf(i, shape, axis)] + 0.1 * random.nextGaussian();
      }
      Tensor x = tensor(shape, values, float32);
      ChannelMoments actual = MomentsKernel.compute(x, axis);
      for (int c = 0; c < shape[axis]; c++) {
        double[] channel = valuesOfChannel(x, axis, c);
        double[] exact = twoPass(channel);
        String what = Arrays.toString(shape) + " " + x.dtype() + " channel " + c;
        assertClose(what + " mean", actual.mean()[c], exact[0], 0, Tolerances.HAND_COMPUTED);
        assertClose(what + " M2", actual.m2()[c], exact[1], 0, Tolerances.LARGE_MEAN_VARIANCE_RELATIVE);
        // The case is hard enough to tell a stable kernel from a naive one.
        double naive = naiveOnePassM2(channel);
        assertThat(Math.abs(naive - exact[1]) / exact[1])
            .as("%s: naive one-pass relative error", what)
            .isGreaterThan(100 * Tolerances.LARGE_MEAN_VARIANCE_RELATIVE);
      }
    }
  }

  @ParameterizedTest(name = "float32 {0}")
  @ValueSource(booleans = {false, true})
  void nonFiniteValuesAreLeftOutAndCounted(boolean float32) {
    // [2, 3, 4] with channel axis 1: each channel holds 8 values at flat index o * 12 + c * 4 + i.
    int[] shape = {2, 3, 4};
    double[] values = new double[24];
    Random random = new Random(11);
    for (int i = 0; i < values.length; i++) {
      values[i] = 50 + random.nextGaussian();
    }
    values[0] = Double.NaN; // channel 0, its first value: the kernel's shift must not be NaN
    values[13] = Double.NaN; // channel 0 again
    values[4 + 2] = Double.POSITIVE_INFINITY; // channel 1
    values[12 + 4 + 3] = Double.NEGATIVE_INFINITY; // channel 1
    Tensor x = tensor(shape, values, float32);

    ChannelMoments actual = MomentsKernel.compute(x, 1);

    assertThat(actual.nonFinite()).containsExactly(2, 2, 0);
    assertThat(actual.count()).containsExactly(6, 6, 8);
    assertThat(actual.totalNonFinite()).isEqualTo(4);
    for (int c = 0; c < 3; c++) {
      double[] finite = Arrays.stream(valuesOfChannel(x, 1, c)).filter(Double::isFinite).toArray();
      double[] exact = twoPass(finite);
      assertClose("channel " + c + " mean", actual.mean()[c], exact[0], 0, Tolerances.HAND_COMPUTED);
      assertClose("channel " + c + " M2", actual.m2()[c], exact[1], 0, Tolerances.HAND_COMPUTED);
      assertThat(actual.biasedVariance(c)).isFinite();
    }
  }

  @ParameterizedTest(name = "float32 {0}")
  @ValueSource(booleans = {false, true})
  void aChannelWithoutFiniteValuesHasNoMoments(boolean float32) {
    // [4, 2], channel axis 1 (the kernel's inner = 1 path): channel 1 is all NaN and Infinity.
    double[] values = {1, Double.NaN, 2, Double.POSITIVE_INFINITY, 3, Double.NaN, 6, Double.NEGATIVE_INFINITY};
    ChannelMoments actual = MomentsKernel.compute(tensor(new int[] {4, 2}, values, float32), 1);

    assertThat(actual.count()).containsExactly(4, 0);
    assertThat(actual.nonFinite()).containsExactly(0, 4);
    assertClose("channel 0 mean", actual.mean()[0], 3.0, Tolerances.HAND_COMPUTED, 0);
    // [1, 2, 3, 6]: deviations -2, -1, 0, 3, M2 = 14
    assertClose("channel 0 M2", actual.m2()[0], 14.0, Tolerances.HAND_COMPUTED, 0);
    assertThat(actual.biasedVariance(1)).isNaN();
    assertThat(actual.unbiasedVariance(1)).isNaN();
  }

  /**
   * Chan's merge is exact algebra, so the moments of a batch split in two along axis 0 and
   * merged equal those of the whole batch. A seeded loop rather than a jqwik property, because
   * jqwik writes the runs of its properties to {@code .jqwik-database}, a file under version
   * control in this repository.
   */
  @Test
  void mergingMomentsOfTwoPartsOfABatchEqualsMomentsOfTheWhole() {
    for (long seed = 0; seed < 300; seed++) {
      Random random = new Random(seed);
      int rank = 2 + random.nextInt(4);
      int[] shape = new int[rank];
      shape[0] = 2 + random.nextInt(8);
      for (int i = 1; i < rank; i++) {
        shape[i] = 1 + random.nextInt(4);
      }
      int axis = 1 + random.nextInt(rank - 1);
      boolean float32 = random.nextBoolean();
      int split = 1 + random.nextInt(shape[0] - 1);
      Tensor whole = channelShiftedNormal(shape, axis, float32, random);
      String what = "seed " + seed + ", " + Arrays.toString(shape) + " axis " + axis + " split at " + split;

      ChannelMoments merged = MomentsKernel.compute(rows(whole, 0, split), axis)
          .merge(MomentsKernel.compute(rows(whole, split, shape[0]), axis));
      ChannelMoments direct = MomentsKernel.compute(whole, axis);

      assertThat(merged.count()).as(what).containsExactly(direct.count());
      assertThat(merged.nonFinite()).as(what).containsExactly(direct.nonFinite());
      for (int c = 0; c < direct.channels(); c++) {
        double scale = Math.abs(direct.mean()[c]) + Math.sqrt(direct.biasedVariance(c));
        assertClose(what + " mean[" + c + "]", merged.mean()[c], direct.mean()[c], Tolerances.MERGE_RELATIVE * scale, 0);
      }
      assertAllClose(what + " M2", merged.m2(), direct.m2(), 0, Tolerances.MERGE_RELATIVE);
    }
  }

  @Test
  void mergingWithEmptyMomentsChangesNothing() {
    Tensor x = channelShiftedNormal(new int[] {5, 3}, 1, false, new Random(3));
    ChannelMoments moments = MomentsKernel.compute(x, 1);
    for (ChannelMoments merged : List.of(moments.merge(ChannelMoments.empty(3)), ChannelMoments.empty(3).merge(moments))) {
      assertThat(merged.count()).containsExactly(moments.count());
      assertThat(merged.mean()).containsExactly(moments.mean());
      assertThat(merged.m2()).containsExactly(moments.m2());
    }
  }

  @Test
  void mergingCountsNonFiniteValuesOfBothParts() {
    double[] a = {1, Double.NaN, 3, 4};
    double[] b = {Double.POSITIVE_INFINITY, 2, 5, 6};
    ChannelMoments merged = MomentsKernel.compute(new Tensor.Float64(new int[] {2, 2}, a), 1)
        .merge(MomentsKernel.compute(new Tensor.Float64(new int[] {2, 2}, b), 1));
    // channel 0: 1, 3, (inf), 5 -> 3 finite; channel 1: (NaN), 4, 2, 6 -> 3 finite
    assertThat(merged.count()).containsExactly(3, 3);
    assertThat(merged.nonFinite()).containsExactly(1, 1);
    assertAllClose("mean", merged.mean(), new double[] {3, 4}, Tolerances.HAND_COMPUTED, 0);
    assertAllClose("M2", merged.m2(), new double[] {8, 8}, Tolerances.HAND_COMPUTED, 0);
  }

  // ---- helpers

  /** Values whose channel c has mean 10c - 5 and standard deviation 0.5 + c, so mixed-up channels show. */
  static Tensor channelShiftedNormal(int[] shape, int axis, boolean float32, Random random) {
    int size = (int) Tensor.elementCount(shape);
    double[] values = new double[size];
    for (int i = 0; i < size; i++) {
      int c = channelOf(i, shape, axis);
      values[i] = 10.0 * c - 5 + (0.5 + c) * random.nextGaussian();
    }
    return tensor(shape, values, float32);
  }

  /** The values of channel c, in storage order, widened to double. */
  static double[] valuesOfChannel(Tensor x, int axis, int c) {
    double[] out = new double[x.size() / x.shape()[axis]];
    int n = 0;
    for (int i = 0; i < x.size(); i++) {
      if (channelOf(i, x.shape(), axis) == c) {
        out[n++] = x.get(i);
      }
    }
    return out;
  }

  /** {mean, M2} by the textbook two-pass algorithm. */
  static double[] twoPass(double[] values) {
    double sum = 0;
    for (double v : values) {
      sum += v;
    }
    double mean = sum / values.length;
    double m2 = 0;
    for (double v : values) {
      m2 += (v - mean) * (v - mean);
    }
    return new double[] {mean, m2};
  }

  private static double naiveOnePassM2(double[] values) {
    double sum = 0;
    double sumSq = 0;
    for (double v : values) {
      sum += v;
      sumSq += v * v;
    }
    return sumSq - sum * sum / values.length;
  }

  /** Rows [from, to) of axis 0. */
  private static Tensor rows(Tensor x, int from, int to) {
    int[] shape = x.shape().clone();
    int stride = x.size() / shape[0];
    shape[0] = to - from;
    if (x instanceof Tensor.Float32 f) {
      return new Tensor.Float32(shape, Arrays.copyOfRange(f.data(), from * stride, to * stride));
    }
    return new Tensor.Float64(shape, Arrays.copyOfRange(((Tensor.Float64) x).data(), from * stride, to * stride));
  }
}
