package dev.bncheck.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.model.Tensor;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The moments of float32 batches against exact arithmetic: every float32 value is an exact
 * decimal, so BigDecimal gives the true mean and M2.
 */
class MomentsKernelFloat32Test {

  private static final MathContext EXACT_ENOUGH = MathContext.DECIMAL128;

  /** Shapes whose sizes are no multiple of the kernel's lanes, in both layouts. */
  static Stream<Arguments> shapes() {
    return Stream.of(
        Arguments.of("one value", new int[] {1, 1}, 1),
        Arguments.of("NHWC, 1 channel", new int[] {37, 29, 1}, 2),
        Arguments.of("NHWC, 3 channels", new int[] {13, 17, 19, 3}, 3),
        Arguments.of("NHWC, 1000 channels", new int[] {3, 41, 1000}, 2),
        Arguments.of("NCHW, 1 channel", new int[] {5, 1, 331}, 1),
        Arguments.of("NCHW, 5 channels, 7x7 maps", new int[] {23, 5, 7, 7}, 1),
        Arguments.of("NCHW, 300 channels, odd maps", new int[] {3, 300, 13, 11}, 1),
        Arguments.of("NCHW, long runs", new int[] {2, 4, 2053}, 1));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("shapes")
  void meanAndM2StayWithinTheDerivedBoundOfTheExactValues(String name, int[] shape, int axis) {
    Tensor.Float32 x = offsetChannels(shape, axis, new SplittableRandom(Arrays.hashCode(shape)));
    assertWithinBound(name, x, axis);
  }

  @Test
  void channelsFarFromZeroWithTinySpreadKeepTheirVariance() {
    // Mean 1e4, standard deviation 1e-2: a float32 ulp at 1e4 is 1e-3, so the values hold only a
    // few distinct steps and a sum of squares without the shift would lose every digit.
    int[] shape = {64, 9, 9, 4};
    SplittableRandom random = new SplittableRandom(5);
    float[] values = new float[64 * 9 * 9 * 4];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (1e4 * (i % 4 == 3 ? -1 : 1) + 1e-2 * random.nextGaussian());
    }
    Tensor.Float32 nhwc = new Tensor.Float32(shape, values);
    assertWithinBound("NHWC mean 1e4", nhwc, 3);
    assertWithinBound("NCHW mean 1e4", new Tensor.Float32(new int[] {64, 4, 9, 9}, values), 1);
    ChannelMoments moments = MomentsKernel.compute(nhwc, 3);
    for (int c = 0; c < 4; c++) {
      assertThat(Math.sqrt(moments.biasedVariance(c))).as("std of channel %d", c).isBetween(0.008, 0.012);
    }
  }

  @Test
  void aConstantChannelHasItsValueAsMeanAndNoSpread() {
    float[] values = new float[3 * 500];
    for (int i = 0; i < values.length; i++) {
      values[i] = i % 3 == 0 ? 0f : i % 3 == 1 ? 1e4f : (float) Math.sqrt(i);
    }
    ChannelMoments moments = MomentsKernel.compute(new Tensor.Float32(new int[] {500, 3}, values), 1);
    assertThat(moments.mean()[0]).isEqualTo(0.0);
    assertThat(moments.m2()[0]).isEqualTo(0.0);
    assertThat(moments.mean()[1]).isEqualTo(1e4);
    assertThat(moments.m2()[1]).isEqualTo(0.0);
    assertThat(moments.m2()[2]).isPositive();
  }

  /** Values whose squared deviations lie beyond the range of float32, both tiny and huge. */
  @Test
  void valuesWhoseSquaresLeaveTheFloatRangeKeepTheirPrecision() {
    float[] values = new float[2 * 301];
    SplittableRandom random = new SplittableRandom(9);
    for (int i = 0; i < 301; i++) {
      values[2 * i] = (float) (1e-30 * random.nextDouble());
      values[2 * i + 1] = (float) (1e25 * (random.nextDouble() - 0.5));
    }
    Tensor.Float32 x = new Tensor.Float32(new int[] {301, 2}, values);
    assertWithinBound("tiny and huge values", x, 1);
    ChannelMoments moments = MomentsKernel.compute(x, 1);
    assertThat(moments.m2()[0]).isPositive().isFinite();
    assertThat(moments.m2()[1]).isPositive().isFinite();
    assertThat(moments.nonFinite()).containsExactly(0, 0);
  }

  @Test
  void nonFiniteValuesAreCountedAndLeftOut() {
    float[] values = new float[4 * 203];
    SplittableRandom random = new SplittableRandom(11);
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (3 + random.nextGaussian());
    }
    values[0] = Float.NaN;
    values[4 * 100 + 1] = Float.POSITIVE_INFINITY;
    values[4 * 202 + 1] = Float.NEGATIVE_INFINITY;
    ChannelMoments moments = MomentsKernel.compute(new Tensor.Float32(new int[] {203, 4}, values), 1);
    assertThat(moments.nonFinite()).containsExactly(1, 2, 0, 0);
    assertThat(moments.count()).containsExactly(202, 201, 203, 203);
    for (int c = 0; c < 4; c++) {
      assertThat(moments.mean()[c]).as("mean[%d]", c).isBetween(2.5, 3.5);
      assertThat(moments.m2()[c]).as("M2[%d]", c).isFinite();
    }
  }

  /**
   * The cut into parts depends on the shape alone and the parts merge in order, so the threads
   * that run them cannot change a bit: one worker, three, and the kernel's own pool.
   */
  @Test
  void resultsAreBitIdenticalWhateverTheNumberOfThreads() {
    int[] shape = {40, 64, 32, 32};
    Tensor.Float32 x = offsetChannels(shape, 1, new SplittableRandom(13));
    assertThat(MomentsKernel.parts(shape, 1)).isGreaterThan(2);
    ChannelMoments own = MomentsKernel.compute(x, 1);
    for (int threads : new int[] {1, 3}) {
      ForkJoinPool pool = new ForkJoinPool(threads);
      try {
        ChannelMoments pooled = pool.invoke(ForkJoinTask.adapt(() -> MomentsKernel.compute(x, 1)));
        assertThat(pooled.mean()).as("mean, %d threads", threads).containsExactly(own.mean());
        assertThat(pooled.m2()).as("M2, %d threads", threads).containsExactly(own.m2());
      } finally {
        pool.shutdown();
      }
    }
  }

  /**
   * Rows reach each lane in the order {@link WideningDeviations#addRows} declares: row r of each
   * quarter in turn, then the rows after the quarters. The values span 40 decades, so that another
   * order gives other bits (checked on plain row order), and the vector loops, in an array and in
   * native memory, are held to the same order as the scalar one.
   */
  @Test
  void rowsReachEachLaneInTheDeclaredOrderOfFourStreams() {
    SplittableRandom random = new SplittableRandom(29);
    int width = 19;
    for (int rows : new int[] {4, 9, 70, 131}) {
      float[] x = new float[rows * width + 3];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-20, 20)));
      }
      double[] shift = new double[width];
      double[][] streams = TestData.laneSums(width);
      double[][] inRowOrder = TestData.laneSums(width);
      int quarter = rows / 4;
      for (int r = 0; r < quarter; r++) {
        for (int q = 0; q < 4; q++) {
          addRow(x, 3 + (q * quarter + r) * width, streams, width);
        }
      }
      for (int r = 4 * quarter; r < rows; r++) {
        addRow(x, 3 + r * width, streams, width);
      }
      for (int r = 0; r < rows; r++) {
        addRow(x, 3 + r * width, inRowOrder, width);
      }
      double[][] scalar = TestData.laneSums(width);
      new ScalarWideningDeviations(width).addRows(x, 3, rows, shift, scalar[0], scalar[1], width);
      double[][] loops = TestData.laneSums(width);
      MomentsKernel.wideningDeviations(width).addRows(x, 3, rows, shift, loops[0], loops[1], width);
      double[][] inPlace = TestData.laneSums(width);
      MomentsKernel.wideningDeviations(width).addRows(TestData.inNativeMemory(x), 3, rows, shift, inPlace[0], inPlace[1], width);
      for (int k = 0; k < 2; k++) {
        assertThat(scalar[k]).as("scalar, %d rows, sums %d", rows, k).containsExactly(streams[k]);
        assertThat(loops[k]).as("kernel's loops, %d rows, sums %d", rows, k).containsExactly(streams[k]);
        assertThat(inPlace[k]).as("in native memory, %d rows, sums %d", rows, k).containsExactly(streams[k]);
      }
      if (rows > 4) {
        assertThat(Arrays.equals(streams[0], inRowOrder[0]) && Arrays.equals(streams[1], inRowOrder[1]))
            .as("plain row order gives other bits at %d rows", rows).isFalse();
      }
    }
  }

  private static void addRow(float[] x, int row, double[][] sums, int width) {
    for (int j = 0; j < width; j++) {
      double d = x[row + j];
      sums[0][j] += d;
      sums[1][j] += d * d;
    }
  }

  /**
   * A batch read in place from native memory (ONNX Runtime's outputs) has the bits of the same
   * batch in an array, in both layouts, with non-finite values, and in parts on several threads.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("shapes")
  void aBatchInNativeMemoryHasTheBitsOfTheSameBatchInAnArray(String name, int[] shape, int axis) {
    Tensor.Float32 x = offsetChannels(shape, axis, new SplittableRandom(shape.length * 31L + axis));
    x.data()[x.data().length / 2] = Float.NaN;
    assertSameBits(MomentsKernel.compute(x, axis),
        MomentsKernel.compute(new Tensor.NativeFloat32(shape, TestData.inNativeMemory(x.data())), axis));
  }

  @Test
  void aLargeBatchInNativeMemoryHasTheBitsOfTheSameBatchInAnArray() {
    for (int axis : new int[] {1, 3}) {
      int[] shape = axis == 1 ? new int[] {40, 64, 32, 32} : new int[] {40, 32, 32, 64};
      Tensor.Float32 x = offsetChannels(shape, axis, new SplittableRandom(23));
      assertThat(MomentsKernel.parts(shape, axis)).isGreaterThan(2);
      assertSameBits(MomentsKernel.compute(x, axis),
          MomentsKernel.compute(new Tensor.NativeFloat32(shape, TestData.inNativeMemory(x.data())), axis));
    }
  }

  private static void assertSameBits(ChannelMoments expected, ChannelMoments actual) {
    assertThat(actual.count()).containsExactly(expected.count());
    assertThat(actual.mean()).containsExactly(expected.mean());
    assertThat(actual.m2()).containsExactly(expected.m2());
    assertThat(actual.nonFinite()).containsExactly(expected.nonFinite());
  }

  /**
   * The worst-case bound of the kernel for one part (the whole batch here): d = x - p, p the
   * channel's first value, and d^2 are exact in double, and their sums take any one value through
   * at most n + 2 channels additions, each within 2^-53 of the running sum, so they are within
   * that many 2^-53 of the sums of |d| and d^2; then the double arithmetic of mean and M2.
   * Channels last, a value goes through its lane's additions over the rows, then the lanes' into
   * the channel. Channels first, through its accumulator's additions over a run of r values
   * (about r / 16), the run's 16 accumulators' (at most r - 1 of them add non-zero values, and
   * adding zero is exact), and the runs' into the channel: at most r + n / r, no more than n + 1.
   */
  private static void assertWithinBound(String what, Tensor.Float32 x, int axis) {
    assertThat(MomentsKernel.parts(x.shape(), axis)).isEqualTo(1);
    ChannelMoments moments = MomentsKernel.compute(x, axis);
    int channels = x.shape()[axis];
    for (int c = 0; c < channels; c++) {
      double[] v = MomentsKernelTest.valuesOfChannel(x, axis, c);
      int n = v.length;
      double p = v[0];
      double absSum = 0;
      double squares = 0;
      BigDecimal exactSum = BigDecimal.ZERO;
      for (double value : v) {
        absSum += Math.abs(value - p);
        squares += (value - p) * (value - p);
        exactSum = exactSum.add(new BigDecimal(value));
      }
      BigDecimal exactMean = exactSum.divide(BigDecimal.valueOf(n), EXACT_ENOUGH);
      BigDecimal exactM2 = BigDecimal.ZERO;
      for (double value : v) {
        BigDecimal deviation = new BigDecimal(value).subtract(exactMean);
        exactM2 = exactM2.add(deviation.multiply(deviation));
      }
      double relative = (n + 2.0 * channels) * 0x1p-53;
      double sumError = relative * absSum * 1.01;
      double squaresError = relative * squares * 1.01;
      double meanTolerance = sumError / n + 0x1p-52 * Math.abs(exactMean.doubleValue());
      double m2Tolerance = squaresError + 2 * Math.abs(p - exactMean.doubleValue()) * sumError + 0x1p-50 * squares;
      double meanError = new BigDecimal(moments.mean()[c]).subtract(exactMean).abs().doubleValue();
      double m2Error = new BigDecimal(moments.m2()[c]).subtract(exactM2).abs().doubleValue();
      assertThat(meanError).as("%s mean[%d] error", what, c).isLessThanOrEqualTo(meanTolerance);
      assertThat(m2Error).as("%s M2[%d] error", what, c).isLessThanOrEqualTo(m2Tolerance);
    }
  }

  /** Channel c has mean (c % 2 == 0 ? 1 : -1) 100 (c % 7) and standard deviation 1 + c % 3. */
  private static Tensor.Float32 offsetChannels(int[] shape, int axis, SplittableRandom random) {
    int size = (int) Tensor.elementCount(shape);
    int stride = TestData.inner(shape, axis);
    float[] values = new float[size];
    for (int i = 0; i < size; i++) {
      int c = (i / stride) % shape[axis];
      values[i] = (float) ((c % 2 == 0 ? 1 : -1) * 100.0 * (c % 7) + (1 + c % 3) * random.nextGaussian());
    }
    return new Tensor.Float32(shape, values);
  }
}
