package dev.bncheck.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bncheck.model.Tensor;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
   * The Vector API loops widen and accumulate with the scalar loops' arithmetic and send every
   * value to the same accumulator in the same order, so they must give the same bits, whatever the
   * lengths against the CPU's vector width and the chunks of rows, and carry NaN and infinities
   * through to the sums, where the kernel looks for them: rows of lanes (channels last) and runs
   * (channels first), each added to accumulators that already hold sums.
   */
  @Test
  void vectorAndScalarWideningGiveTheSameBits() {
    assertThat(ModuleLayer.boot().findModule("jdk.incubator.vector")).as("Surefire adds the Vector API module").isPresent();
    assumeTrue(MomentsKernel.widensInVectors(), "this CPU's vectors are too narrow for the Vector API loops");
    SplittableRandom random = new SplittableRandom(17);
    float[] x = new float[40_000];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (1e4 * (i % 3) + random.nextGaussian() * Math.pow(10, random.nextInt(-20, 20)));
    }
    x[133] = Float.NaN;
    x[140] = Float.POSITIVE_INFINITY;
    x[141] = Float.NEGATIVE_INFINITY;
    x[20_007] = Float.NaN;
    ByteBuffer inPlace = inNativeMemory(x);
    for (int width : new int[] {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 127, 128, 255, 300}) {
      for (int rows : new int[] {0, 1, 2, 5, 70, 129}) {
        for (int from : new int[] {0, 1, 5, 100}) {
          double[] shift = new double[width];
          for (int j = 0; j < width; j++) {
            shift[j] = x[from + j % 3];
          }
          double[][] vector = laneSums(width);
          double[][] scalar = laneSums(width);
          double[][] vectorInPlace = laneSums(width);
          double[][] scalarInPlace = laneSums(width);
          MomentsKernel.wideningDeviations(width).addRows(x, from, rows, shift, vector[0], vector[1], width);
          new ScalarWideningDeviations(width).addRows(x, from, rows, shift, scalar[0], scalar[1], width);
          MomentsKernel.wideningDeviations(width).addRows(inPlace, from, rows, shift, vectorInPlace[0],
              vectorInPlace[1], width);
          new ScalarWideningDeviations(width).addRows(inPlace, from, rows, shift, scalarInPlace[0], scalarInPlace[1],
              width);
          for (int k = 0; k < 2; k++) {
            String what = String.format("rows: width %d rows %d from %d, sums %d", width, rows, from, k);
            assertThat(vector[k]).as(what).containsExactly(scalar[k]);
            assertThat(vectorInPlace[k]).as("in native memory, " + what).containsExactly(scalar[k]);
            assertThat(scalarInPlace[k]).as("in native memory, scalar, " + what).containsExactly(scalar[k]);
          }
        }
      }
    }
    for (int length : new int[] {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 49, 64, 127, 128, 129, 3136, 20_011}) {
      for (int from : new int[] {0, 1, 5, 100, 160, 19_980}) {
        for (int runs : new int[] {1, 3}) {
          int stride = runs == 1 ? 0 : (x.length - from - length) / 2;
          double[] shift = {x[from], -x[from + stride], 1e4};
          double[][] vector = laneSums(runs);
          double[][] scalar = laneSums(runs);
          double[][] vectorInPlace = laneSums(runs);
          double[][] scalarInPlace = laneSums(runs);
          MomentsKernel.wideningDeviations(0).addRuns(x, from, runs, stride, length, shift, vector[0], vector[1]);
          new ScalarWideningDeviations(0).addRuns(x, from, runs, stride, length, shift, scalar[0], scalar[1]);
          MomentsKernel.wideningDeviations(0).addRuns(inPlace, from, runs, stride, length, shift, vectorInPlace[0],
              vectorInPlace[1]);
          new ScalarWideningDeviations(0).addRuns(inPlace, from, runs, stride, length, shift, scalarInPlace[0],
              scalarInPlace[1]);
          for (int k = 0; k < 2; k++) {
            String what = String.format("runs: length %d from %d runs %d, sums %d", length, from, runs, k);
            assertThat(vector[k]).as(what).containsExactly(scalar[k]);
            assertThat(vectorInPlace[k]).as("in native memory, " + what).containsExactly(scalar[k]);
            assertThat(scalarInPlace[k]).as("in native memory, scalar, " + what).containsExactly(scalar[k]);
          }
        }
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
      double[][] streams = laneSums(width);
      double[][] inRowOrder = laneSums(width);
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
      double[][] scalar = laneSums(width);
      new ScalarWideningDeviations(width).addRows(x, 3, rows, shift, scalar[0], scalar[1], width);
      double[][] loops = laneSums(width);
      MomentsKernel.wideningDeviations(width).addRows(x, 3, rows, shift, loops[0], loops[1], width);
      double[][] inPlace = laneSums(width);
      MomentsKernel.wideningDeviations(width).addRows(inNativeMemory(x), 3, rows, shift, inPlace[0], inPlace[1], width);
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
        MomentsKernel.compute(new Tensor.NativeFloat32(shape, inNativeMemory(x.data())), axis));
  }

  @Test
  void aLargeBatchInNativeMemoryHasTheBitsOfTheSameBatchInAnArray() {
    for (int axis : new int[] {1, 3}) {
      int[] shape = axis == 1 ? new int[] {40, 64, 32, 32} : new int[] {40, 32, 32, 64};
      Tensor.Float32 x = offsetChannels(shape, axis, new SplittableRandom(23));
      assertThat(MomentsKernel.parts(shape, axis)).isGreaterThan(2);
      assertSameBits(MomentsKernel.compute(x, axis),
          MomentsKernel.compute(new Tensor.NativeFloat32(shape, inNativeMemory(x.data())), axis));
    }
  }

  private static void assertSameBits(ChannelMoments expected, ChannelMoments actual) {
    assertThat(actual.count()).containsExactly(expected.count());
    assertThat(actual.mean()).containsExactly(expected.mean());
    assertThat(actual.m2()).containsExactly(expected.m2());
    assertThat(actual.nonFinite()).containsExactly(expected.nonFinite());
  }

  private static ByteBuffer inNativeMemory(float[] x) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(x.length * Float.BYTES).order(ByteOrder.nativeOrder());
    buffer.asFloatBuffer().put(x);
    return buffer;
  }

  /** Sum and sum of squares: accumulators of a random start. */
  private static double[][] laneSums(int length) {
    SplittableRandom random = new SplittableRandom(length);
    double[][] sums = new double[2][length];
    for (double[] lanes : sums) {
      for (int j = 0; j < length; j++) {
        lanes[j] = random.nextGaussian();
      }
    }
    return sums;
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
