package dev.bncheck.engine;

import static dev.bncheck.engine.AllClose.assertAllClose;
import static dev.bncheck.engine.AllClose.assertClose;
import static dev.bncheck.engine.TestData.inner;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.model.Tensor;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Large batches are reduced in parts on several threads and merged; the result must be the
 * one-part reduction up to rounding, and the same bits on every run.
 */
class MomentsKernelPartsTest {

  /**
   * Parts against one part: the same shifted double sums in another order, then Chan's merge,
   * on channels whose mean is up to 5e3 standard deviations from zero (measured: 2e-16 on the
   * mean relative to |mean| + std, 4e-14 on M2).
   */
  private static final double PARTS_VS_ONE_PART_RELATIVE = 1e-12;

  /** The batches below, made once: making them costs more than reducing them. */
  private static final Map<String, Tensor> BATCHES = new ConcurrentHashMap<>();

  static Stream<Arguments> largeBatches() {
    return Stream.of(
        Arguments.of("NHWC float32", new int[] {24, 28, 28, 128}, 3, true),
        Arguments.of("NCHW float32", new int[] {24, 128, 28, 28}, 1, true),
        // One row only, so the cuts fall inside each channel's run of values.
        Arguments.of("NCHW float32, batch of one", new int[] {1, 24, 320, 320}, 1, true),
        Arguments.of("NHWC float64", new int[] {8, 40, 40, 128}, 3, false),
        Arguments.of("NCHW float64", new int[] {8, 128, 40, 40}, 1, false));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("largeBatches")
  void partsMergeToTheOnePartMoments(String layout, int[] shape, int axis, boolean float32) {
    Tensor x = batch(layout, shape, axis, float32);
    assertThat(MomentsKernel.parts(shape, axis)).as("parts of %s", Arrays.toString(shape)).isGreaterThan(1);

    assertSameUpToRounding(layout, MomentsKernel.compute(x, axis), MomentsKernel.compute(x, axis, 1));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("largeBatches")
  void partsGiveTheSameBitsOnEveryRun(String layout, int[] shape, int axis, boolean float32) {
    Tensor x = batch(layout, shape, axis, float32);
    ChannelMoments first = MomentsKernel.compute(x, axis);
    for (int run = 0; run < 3; run++) {
      ChannelMoments again = MomentsKernel.compute(x, axis);
      assertThat(again.mean()).as("%s run %d mean", layout, run).containsExactly(first.mean());
      assertThat(again.m2()).as("%s run %d M2", layout, run).containsExactly(first.m2());
    }
  }

  @Test
  void nonFiniteValuesAreLeftOutInEveryPart() {
    int[] shape = {24, 28, 28, 128};
    int axis = 3;
    int channels = shape[axis];
    int parts = MomentsKernel.parts(shape, axis);
    assertThat(parts).isGreaterThan(2);
    int positions = (int) Tensor.elementCount(shape) / channels;
    int secondPart = positions / parts;
    float[] values = ((Tensor.Float32) batch("NHWC float32", shape, axis, true)).data().clone();
    // Channel 5 starts the first part with NaN and channel 6 the second: those parts must not
    // shift by it. Channel 7 holds infinities of both signs in the last part.
    values[5] = Float.NaN;
    values[secondPart * channels + 6] = Float.NaN;
    values[(positions - 1) * channels + 7] = Float.POSITIVE_INFINITY;
    values[(positions - 2) * channels + 7] = Float.NEGATIVE_INFINITY;
    Tensor x = new Tensor.Float32(shape, values);

    ChannelMoments inParts = MomentsKernel.compute(x, axis);

    long[] expectedNonFinite = new long[channels];
    expectedNonFinite[5] = 1;
    expectedNonFinite[6] = 1;
    expectedNonFinite[7] = 2;
    assertThat(inParts.nonFinite()).containsExactly(expectedNonFinite);
    for (int c = 0; c < channels; c++) {
      assertThat(inParts.count()[c]).as("count[%d]", c).isEqualTo(positions - expectedNonFinite[c]);
      assertThat(inParts.mean()[c]).as("mean[%d]", c).isFinite();
      assertThat(inParts.m2()[c]).as("M2[%d]", c).isFinite();
    }
    assertSameUpToRounding("NHWC with non-finite values", inParts, MomentsKernel.compute(x, axis, 1));
  }

  @Test
  void batchesUpToOnePartStayWholeAndPartsNeverOutnumberAChannelsValues() {
    assertThat(MomentsKernel.parts(new int[] {64, 8, 8, 64}, 3)).isEqualTo(1);
    // Exactly one part's worth of values, then twice that.
    assertThat(MomentsKernel.parts(new int[] {64, 128, 128}, 1)).isEqualTo(1);
    assertThat(MomentsKernel.parts(new int[] {64, 128, 128, 1}, 1)).isEqualTo(1);
    assertThat(MomentsKernel.parts(new int[] {64, 128, 128, 2}, 1)).isEqualTo(2);
    // Three parts' worth of values, but only two or one per channel.
    assertThat(MomentsKernel.parts(new int[] {2, 3_000_000}, 1)).isEqualTo(2);
    assertThat(MomentsKernel.parts(new int[] {1, 3_000_000}, 1)).isEqualTo(1);
  }

  /**
   * Groups of samples are ranges of the first axis: each group's moments are those of its samples
   * alone, and merged they are the batch's, in both layouts.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("largeBatches")
  void groupsOfSamplesHoldTheirOwnSamplesAndMergeToTheBatch(String layout, int[] shape, int axis, boolean float32) {
    Tensor x = batch(layout, shape, axis, float32);
    int perGroup = Math.max(1, shape[0] / 3);
    var groups = MomentsKernel.computeGroups(x, axis, perGroup);

    assertThat(groups).hasSize((shape[0] + perGroup - 1) / perGroup);
    ChannelMoments merged = groups.get(0);
    for (int g = 1; g < groups.size(); g++) {
      merged = merged.merge(groups.get(g));
    }
    assertSameUpToRounding(layout + " merged groups", merged, MomentsKernel.compute(x, axis, 1));
    int last = groups.size() - 1;
    int from = last * perGroup;
    assertSameUpToRounding(layout + " last group", groups.get(last),
        MomentsKernel.compute(samples(x, from, shape[0]), axis, 1));
  }

  /** Samples [from, to) of a batch, copied: a tensor of their own. */
  private static Tensor samples(Tensor x, int from, int to) {
    int[] shape = x.shape().clone();
    int perSample = x.size() / shape[0];
    shape[0] = to - from;
    if (x instanceof Tensor.Float32 f) {
      return new Tensor.Float32(shape, Arrays.copyOfRange(f.data(), from * perSample, to * perSample));
    }
    return new Tensor.Float64(shape,
        Arrays.copyOfRange(((Tensor.Float64) x).data(), from * perSample, to * perSample));
  }

  @Test
  void anEmptyBatchHasNoValuesInAnyChannel() {
    ChannelMoments none = MomentsKernel.compute(new Tensor.Float32(new int[] {0, 4}, new float[0]), 1);
    assertThat(none.count()).containsExactly(0, 0, 0, 0);
    assertThat(none.nonFinite()).containsExactly(0, 0, 0, 0);
  }

  private static void assertSameUpToRounding(String what, ChannelMoments actual, ChannelMoments onePart) {
    assertThat(actual.count()).as("%s count", what).containsExactly(onePart.count());
    assertThat(actual.nonFinite()).as("%s non-finite", what).containsExactly(onePart.nonFinite());
    for (int c = 0; c < onePart.channels(); c++) {
      double scale = Math.abs(onePart.mean()[c]) + Math.sqrt(onePart.biasedVariance(c));
      assertClose(what + " mean[" + c + "]", actual.mean()[c], onePart.mean()[c], PARTS_VS_ONE_PART_RELATIVE * scale, 0);
    }
    assertAllClose(what + " M2", actual.m2(), onePart.m2(), 0, PARTS_VS_ONE_PART_RELATIVE);
  }

  private static Tensor batch(String layout, int[] shape, int axis, boolean float32) {
    return BATCHES.computeIfAbsent(layout + Arrays.toString(shape),
        key -> offsetChannels(shape, axis, float32, new SplittableRandom(key.hashCode())));
  }

  /**
   * Channel c has mean ±1e3 * (1 + c % 5) and standard deviation 1 + c % 3, so that sums which
   * were not shifted, or shifted by another channel's value, would lose many digits. The noise is
   * uniform, which is quicker to draw than normal noise and as good for the sums.
   */
  private static Tensor offsetChannels(int[] shape, int axis, boolean float32, SplittableRandom random) {
    int size = (int) Tensor.elementCount(shape);
    int stride = inner(shape, axis);
    if (float32) {
      float[] values = new float[size];
      for (int i = 0; i < size; i++) {
        values[i] = (float) value((i / stride) % shape[axis], random);
      }
      return new Tensor.Float32(shape, values);
    }
    double[] values = new double[size];
    for (int i = 0; i < size; i++) {
      values[i] = value((i / stride) % shape[axis], random);
    }
    return new Tensor.Float64(shape, values);
  }

  private static double value(int c, SplittableRandom random) {
    double mean = (c % 2 == 0 ? 1 : -1) * 1e3 * (1 + c % 5);
    return mean + (1 + c % 3) * Math.sqrt(12) * (random.nextDouble() - 0.5);
  }
}
