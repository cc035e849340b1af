package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.load.LoadOptions;
import dev.bncheck.engine.ChannelMoments;
import dev.bncheck.engine.MomentsKernel;
import dev.bncheck.model.BatchMoments;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;

/**
 * The moments TensorFlow computes inside the graph against the Java kernel (itself checked
 * against ND4J and hand-computed values) on the same data.
 */
class InGraphMomentsTest {

  private static BnLayer layer(int axis, int channels) {
    double[] ones = new double[channels];
    Arrays.fill(ones, 1);
    return new BnLayer("bn", "test", axis, 1e-3, OptionalDouble.empty(), null, OptionalLong.empty(),
        ones, true, new double[channels], true, new double[channels], ones, java.util.Optional.empty());
  }

  /** The moments both ways, which must agree, or the one-pass reading when it is refused. */
  private static Optional<BatchMoments> inGraph(Tensor data, long[] staticShape, int axis, int channels) {
    InGraphMoments.Reading onePass = reading(data, staticShape, axis, channels, false);
    InGraphMoments.Reading twoPasses = reading(data, staticShape, axis, channels, true);
    if (onePass == null) {
      return Optional.empty();
    }
    if (onePass.status() == InGraphMoments.Status.OK) {
      assertThat(twoPasses.status()).isEqualTo(InGraphMoments.Status.OK);
      for (int c = 0; c < channels; c++) {
        double sd = Math.sqrt(twoPasses.moments().m2()[c] / twoPasses.moments().countPerChannel());
        assertThat(onePass.moments().mean()[c]).isCloseTo(twoPasses.moments().mean()[c], within(1e-6 * sd));
        assertThat(onePass.moments().m2()[c] / twoPasses.moments().m2()[c]).isCloseTo(1.0, within(1e-4));
      }
    }
    return twoPasses.status() == InGraphMoments.Status.OK ? Optional.of(twoPasses.moments()) : Optional.empty();
  }

  /** Runs one way of the in-graph reduction of {@code data} fed as float32 or float64 of the given static shape. */
  private static InGraphMoments.Reading reading(Tensor data, long[] staticShape, int axis, int channels,
      boolean twoPasses) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      boolean doubles = data instanceof Tensor.Float64;
      Placeholder<?> x = doubles
          ? tf.placeholder(TFloat64.class, Placeholder.shape(Shape.of(staticShape)))
          : tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(staticShape)));
      Optional<InGraphMoments> moments =
          InGraphMoments.add(g, tf.withSubScope("moments"), x.op().name() + ":0", layer(axis, channels));
      if (moments.isEmpty()) {
        return null;
      }
      long[] dims = Arrays.stream(data.shape()).asLongStream().toArray();
      try (org.tensorflow.Tensor fed = doubles
          ? TFloat64.tensorOf(Shape.of(dims), DataBuffers.of(((Tensor.Float64) data).data(), true, false))
          : TFloat32.tensorOf(Shape.of(dims), DataBuffers.of(((Tensor.Float32) data).data(), true, false))) {
        CheckedSession.Runner runner = new CheckedSession(g, s, "test", LoadOptions.DEFAULTS).runner()
            .feed(x.op().name() + ":0", fed);
        moments.get().fetch(runner, twoPasses);
        try (Result result = runner.run()) {
          return moments.get().read(result, 0, twoPasses);
        }
      }
    }
  }

  private static Tensor.Float32 normal(int[] shape, int axis, double offset, double spread, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] values = new float[(int) Tensor.elementCount(shape)];
    int inner = 1;
    for (int d = axis + 1; d < shape.length; d++) {
      inner *= shape[d];
    }
    for (int i = 0; i < values.length; i++) {
      int c = (i / inner) % shape[axis];
      values[i] = (float) (offset * (c + 1) + spread * (c + 1) * gaussian(random));
    }
    return new Tensor.Float32(shape, values);
  }

  private static double gaussian(SplittableRandom random) {
    return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
  }

  private static void assertMatchesKernel(Tensor data, BatchMoments got, int axis, double meanTolerance,
      double varianceRelativeTolerance) {
    ChannelMoments expected = MomentsKernel.compute(data, axis);
    assertThat(got.shape()).containsExactly(data.shape());
    assertThat(got.channelAxis()).isEqualTo(axis);
    assertThat(got.countPerChannel()).isEqualTo(expected.count()[0]);
    for (int c = 0; c < expected.channels(); c++) {
      double sd = Math.sqrt(expected.biasedVariance(c));
      assertThat(got.mean()[c]).as("mean of channel %d", c).isCloseTo(expected.mean()[c], within(meanTolerance * sd));
      assertThat(got.m2()[c] / expected.m2()[c]).as("M2 of channel %d", c)
          .isCloseTo(1.0, within(varianceRelativeTolerance));
    }
  }

  @ParameterizedTest(name = "shape {0}, channel axis {1}")
  @CsvSource(delimiter = ';', value = {
      "5,7,6,3; 3", // NHWC
      "4,3,6,5; 1", // NCHW
      "9,4; 1", // dense
      "3,10,4; 2", // sequence, channels last
      "2,3,4,5,2; 4", // NDHWC
      "2,3,4,5,2; 1", // NCDHW
      "64,14,14,32; 3"})
  void givesTheKernelsMomentsInEveryLayout(String dims, int axis) {
    int[] shape = Arrays.stream(dims.split(",")).mapToInt(Integer::parseInt).toArray();
    Tensor.Float32 data = normal(shape, axis, 0.5, 2.0, 7);
    long[] staticShape = Arrays.stream(shape).asLongStream().toArray();
    staticShape[0] = -1;
    BatchMoments got = inGraph(data, staticShape, axis, shape[axis]).orElseThrow();
    assertMatchesKernel(data, got, axis, 1e-6, 1e-6);
  }

  @Test
  void negativeChannelAxisCountsFromTheEnd() {
    Tensor.Float32 data = normal(new int[] {3, 4, 4, 5}, 3, 1, 1, 3);
    BatchMoments got = inGraph(data, new long[] {-1, 4, 4, 5}, -1, 5).orElseThrow();
    assertMatchesKernel(data, got, 3, 1e-6, 1e-6);
  }

  @Test
  void aLargeMeanAgainstASmallSpreadKeepsItsVariance() {
    // float32 values near 1e4 with a spread of 1e-2 (a float32 step there is 1e-3): a one-pass
    // sum of squares would lose every digit of the variance; the deviations from the rounded mean
    // keep it. The mean is off by a few thousandths of the spread here, from rounding the row
    // sums of 56 values near 1e4 in float32: far below what any finding looks at.
    int[] shape = {32, 56, 56, 4};
    Tensor.Float32 data = normal(shape, 3, 1e4, 1e-2, 11);
    BatchMoments got = inGraph(data, new long[] {-1, 56, 56, 4}, 3, 4).orElseThrow();
    assertMatchesKernel(data, got, 3, 1e-2, 1e-3);
    assertThat(reading(data, new long[] {-1, 56, 56, 4}, 3, 4, false).status())
        .as("the one-pass sums refuse what they would round away").isEqualTo(InGraphMoments.Status.CANCELLED);
  }

  @Test
  void onePassSumsAreTrustedUpToTheirCancellationLimit() {
    // mean/spread 5 (factor 26) is read in one pass; 20 (factor 401) and a constant channel are refused
    int[] shape = {8, 14, 14, 2};
    assertThat(reading(normal(shape, 3, 5, 1, 2), new long[] {-1, 14, 14, 2}, 3, 2, false).status())
        .isEqualTo(InGraphMoments.Status.OK);
    assertThat(reading(normal(shape, 3, 20, 1, 2), new long[] {-1, 14, 14, 2}, 3, 2, false).status())
        .isEqualTo(InGraphMoments.Status.CANCELLED);
    Tensor.Float32 constant = normal(shape, 3, 0, 1, 2);
    for (int i = 0; i < constant.data().length; i += 2) {
      constant.data()[i] = 3;
    }
    assertThat(reading(constant, new long[] {-1, 14, 14, 2}, 3, 2, false).status())
        .isEqualTo(InGraphMoments.Status.CANCELLED);
    BatchMoments twoPasses = reading(constant, new long[] {-1, 14, 14, 2}, 3, 2, true).moments();
    assertThat(twoPasses.mean()[0]).isEqualTo(3);
    assertThat(twoPasses.m2()[0]).isZero();
  }

  @Test
  void float64TensorsAreReducedInFloat64Throughout() {
    SplittableRandom random = new SplittableRandom(5);
    double[] values = new double[6 * 3 * 8];
    for (int i = 0; i < values.length; i++) {
      values[i] = 1e3 + gaussian(random) * 1e-3;
    }
    Tensor.Float64 data = new Tensor.Float64(new int[] {6, 3, 8}, values);
    BatchMoments got = inGraph(data, new long[] {-1, 3, 8}, 1, 3).orElseThrow();
    assertMatchesKernel(data, got, 1, 1e-6, 1e-6);
  }

  @Test
  void handCountedMoments() {
    // NCHW [2, 2, 1, 2]: channel 0 holds 1, 2, 5, 6 (mean 3.5, M2 17); channel 1 holds 10, 10, 10, 30
    // (mean 15, M2 300)
    Tensor.Float32 data = new Tensor.Float32(new int[] {2, 2, 1, 2}, new float[] {1, 2, 10, 10, 5, 6, 10, 30});
    BatchMoments got = inGraph(data, new long[] {-1, 2, 1, 2}, 1, 2).orElseThrow();
    assertThat(got.mean()).containsExactly(3.5, 15);
    assertThat(got.m2()).containsExactly(17, 300);
    assertThat(got.countPerChannel()).isEqualTo(4);
  }

  @Test
  void aNonFiniteValueOrAnOverflowingSquareLeavesTheBatchToJava() {
    Tensor.Float32 data = normal(new int[] {4, 3, 3, 2}, 3, 0, 1, 1);
    data.data()[5] = Float.NaN;
    Tensor.Float32 huge = normal(new int[] {4, 3, 3, 2}, 3, 0, 1e25, 1);
    for (boolean twoPasses : new boolean[] {false, true}) {
      assertThat(reading(data, new long[] {-1, 3, 3, 2}, 3, 2, twoPasses).status())
          .isEqualTo(InGraphMoments.Status.NOT_FINITE);
      assertThat(reading(huge, new long[] {-1, 3, 3, 2}, 3, 2, twoPasses).status())
          .isEqualTo(InGraphMoments.Status.NOT_FINITE);
    }
  }

  @Test
  void tensorsOfUnknownRankOrOtherTypesGetNoOps() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> unknownRank = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.unknown()));
      Placeholder<TInt32> ints = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, 3)));
      assertThat(InGraphMoments.add(g, tf, unknownRank.op().name() + ":0", layer(1, 3))).isEmpty();
      assertThat(InGraphMoments.add(g, tf, ints.op().name() + ":0", layer(1, 3))).isEmpty();
      assertThat(InGraphMoments.add(g, tf, "missing:0", layer(1, 3))).isEmpty();
    }
  }

  @Test
  void everyOpBncheckAddsIsOnTheAllowlist() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4, 4, 2)));
      Placeholder<TFloat32> dense = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 2)));
      assertThat(InGraphMoments.add(g, tf, x.op().name() + ":0", layer(-1, 2))).isPresent();
      assertThat(InGraphMoments.add(g, tf, dense.op().name() + ":0", layer(1, 2))).isPresent();
      java.util.Set<String> types = new java.util.TreeSet<>();
      g.operations().forEachRemaining(op -> types.add(op.type()));
      // and what ModelRunner adds around them: the self-check's copied slices, the Identity
      // through which whole tensors are fetched
      types.addAll(List.of("StridedSlice", "DeepCopy", "Identity"));
      assertThat(types).allMatch(OpAllowlist::allows);
      assertThat(types).contains("EuclideanNorm", "Sum", "Square", "Sub");
    }
  }
}
