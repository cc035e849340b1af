package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.array.InputArray;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.ChannelMoments;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.engine.MomentsKernel;
import dev.bncheck.engine.SelfCheck;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Tensor;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;

/**
 * The batch loop on a graph of one BN node fed directly: what reaches the sink when a layer's
 * in-graph reduction is refused, in one pass or in both ways.
 */
class CalibrationRunTest {

  private static final int SAMPLES = 20;
  private static final int BATCH = 8;
  private static final double[] MOVING_MEAN = {0, 0};
  private static final double[] MOVING_VARIANCE = {1, 1};

  /** [SAMPLES, 4, 4, 2]: channel 0 around {@code offset0} with spread 1, channel 1 around 1 with spread 2. */
  private static Tensor.Float32 data(double offset0) {
    SplittableRandom random = new SplittableRandom(3);
    float[] values = new float[SAMPLES * 4 * 4 * 2];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (i % 2 == 0 ? offset0 + random.nextDouble(-1.7, 1.7) : 1 + random.nextDouble(-3.4, 3.4));
    }
    return new Tensor.Float32(new int[] {SAMPLES, 4, 4, 2}, values);
  }

  private static LayerCalibration calibrate(Tensor.Float32 data) {
    return calibrate(data, CalibrationRun.Plan.Use.JUDGED);
  }

  private static LayerCalibration calibrate(Tensor.Float32 data, CalibrationRun.Plan.Use use) {
    return calibrated(data, use).layer();
  }

  /** What reached the sink, and how many distinct sets of fetches the batches ran. */
  private record Calibrated(LayerCalibration layer, int distinctRuns) {}

  private static Calibrated calibrated(Tensor.Float32 data, CalibrationRun.Plan.Use use) {
    BnLayer layer = new BnLayer("bn", "test", -1, 1e-3, OptionalDouble.empty(), null, OptionalLong.empty(),
        new double[] {1, 1}, true, new double[2], true, MOVING_MEAN, MOVING_VARIANCE, java.util.Optional.empty());
    try (Graph g = new Graph(); Session tfSession = TensorFlowRuntime.session(g, LoadOptions.DEFAULT_TIMEOUT)) {
      CheckedSession session = new CheckedSession(g, tfSession, "test", LoadOptions.DEFAULTS);
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4, 4, 2)));
      FusedBatchNorm<TFloat32, TFloat32> bn = tf.nn.fusedBatchNorm(x, tf.constant(new float[] {1, 1}),
          tf.constant(new float[2]), tf.constant(new float[] {0, 0}), tf.constant(new float[] {1, 1}),
          FusedBatchNorm.epsilon(1e-3f), FusedBatchNorm.isTraining(false));
      String fed = x.op().name() + ":0";
      // fetched through an Identity, as ModelRunner does, since a fed tensor cannot be fetched
      String input = tf.identity(x).op().name() + ":0";
      String output = bn.y().op().name() + ":0";
      InGraphMoments moments = InGraphMoments.add(g, tf.withSubScope("moments"), fed, layer).orElseThrow();
      CalibrationRun.Capture capture = new CalibrationRun.Capture(0, layer, input, output, false, null, null,
          new CalibrationRun.InGraph(moments, null, input, output));
      CalibrationAccumulator sink = new CalibrationAccumulator();
      CalibrationRun.run(session, List.of(new Feed(List.of(fed), new InputArray.Numbers(data), DataType.DT_FLOAT,
          Feed.Batching.BATCHES, null)),
          new CalibrationRun.Plan(List.of(capture), List.of(), BATCH, Long.MAX_VALUE, CalibrationRun.Plan.Pass.INFERENCE_VIEW, use), sink,
          "test");
      return new Calibrated(sink.layer(0).orElseThrow(), session.distinctRuns());
    }
  }

  /**
   * The later batches fetch what the first fetches, the self-check's slices unread: TensorFlow
   * builds an executor for each new set of fetches. The self-check still reads the first batch.
   */
  @Test
  void everyBatchRunsTheFetchesOfTheFirst() {
    Tensor.Float32 data = data(2);
    Calibrated got = calibrated(data, CalibrationRun.Plan.Use.JUDGED);
    assertThat(got.distinctRuns()).isEqualTo(1);
    assertSameAsTheKernel(data, got.layer());
    assertThat(got.layer().selfCheck().orElseThrow().values()).isEqualTo(BATCH * 4 * 4 * 2);
  }

  private static void assertSameAsTheKernel(Tensor.Float32 data, LayerCalibration got) {
    assertThat(got.batches()).as("each batch once").hasSize((SAMPLES + BATCH - 1) / BATCH);
    ChannelMoments expected = MomentsKernel.compute(data, 3);
    assertThat(got.population().count()).containsExactly(expected.count());
    for (int c = 0; c < 2; c++) {
      double sd = Math.sqrt(expected.biasedVariance(c));
      assertThat(got.population().mean()[c]).isCloseTo(expected.mean()[c], within(1e-5 * sd));
      assertThat(got.population().m2()[c] / expected.m2()[c]).isCloseTo(1.0, within(1e-4));
    }
    assertThat(got.selfCheck().orElseThrow().passed()).isTrue();
  }

  @Test
  void batchesWithinTheOnePassLimitAreReducedInOnePass() {
    Tensor.Float32 data = data(2);
    assertSameAsTheKernel(data, calibrate(data));
  }

  @Test
  void aChannelFarFromZeroAgainstItsSpreadIsRunAgainInTwoPasses() {
    // channel 0: mean 1000, spread 1: (mean^2 + variance) / variance is a million, far beyond
    // what one pass keeps, so each batch is read in two passes, and still counted once
    Tensor.Float32 data = data(1000);
    assertSameAsTheKernel(data, calibrate(data));
  }

  @Test
  void aNonFiniteValueSendsItsBatchToJavaWhichCountsIt() {
    Tensor.Float32 data = data(2);
    data.data()[SAMPLES * 16] = Float.NaN; // channel 0 of the second half of the data
    LayerCalibration got = calibrate(data);
    assertThat(got.batches()).hasSize((SAMPLES + BATCH - 1) / BATCH);
    assertThat(got.population().nonFinite()).containsExactly(1, 0);
    ChannelMoments expected = MomentsKernel.compute(data, 3);
    assertThat(got.population().mean()[0]).isCloseTo(expected.mean()[0], within(1e-6));
  }

  @Test
  void statisticsToWriteIntoAModelAreReducedInTwoPassesWhateverTheMean() {
    // channel 0 at 8 standard deviations from zero: within the one-pass limit, where one pass
    // keeps about five digits of M2; two passes keep what float32 data holds
    Tensor.Float32 data = data(8);
    ChannelMoments expected = MomentsKernel.compute(data, 3);
    LayerCalibration exact = calibrate(data, CalibrationRun.Plan.Use.WRITTEN);
    assertThat(exact.batches()).hasSize((SAMPLES + BATCH - 1) / BATCH);
    assertThat(exact.population().m2()[0] / expected.m2()[0]).isCloseTo(1.0, within(5e-8));
    // on this data one pass is off by 5e-7 and two passes by 4e-9: the assertions tell them apart
    double onePass = calibrate(data, CalibrationRun.Plan.Use.JUDGED).population().m2()[0] / expected.m2()[0];
    assertThat(onePass).isCloseTo(1.0, within(1e-4)).isNotCloseTo(1.0, within(5e-8));
  }

  /**
   * The self-check of a training-mode node on a large batch far from zero, normalized with
   * TensorFlow's own batch statistics or with bncheck's.
   */
  private static SelfCheck trainingModeSelfCheck(boolean frameworkStatistics) {
    int n = 32;
    int side = 56;
    int channels = 32;
    SplittableRandom random = new SplittableRandom(1);
    float[] values = new float[n * side * side * channels];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (5.0 * (1 + i % channels) + random.nextDouble(-1.7, 1.7));
    }
    Tensor.Float32 data = new Tensor.Float32(new int[] {n, side, side, channels}, values);
    double[] ones = new double[channels];
    java.util.Arrays.fill(ones, 1);
    BnLayer layer = new BnLayer("bn", "test", -1, 1e-3, OptionalDouble.empty(), null, OptionalLong.empty(), ones, true,
        new double[channels], true, new double[channels], ones, java.util.Optional.empty());
    try (Graph g = new Graph(); Session tfSession = TensorFlowRuntime.session(g, LoadOptions.DEFAULT_TIMEOUT)) {
      CheckedSession session = new CheckedSession(g, tfSession, "test", LoadOptions.DEFAULTS);
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, side, side, channels)));
      float[] onesF = new float[channels];
      java.util.Arrays.fill(onesF, 1);
      FusedBatchNorm<TFloat32, TFloat32> bn = tf.nn.fusedBatchNorm(x, tf.constant(onesF),
          tf.constant(new float[channels]), tf.constant(new float[0]), tf.constant(new float[0]),
          FusedBatchNorm.epsilon(1e-3f), FusedBatchNorm.isTraining(true));
      String fed = x.op().name() + ":0";
      String input = tf.identity(x).op().name() + ":0";
      String output = bn.y().op().name() + ":0";
      CalibrationRun.BatchStatistics statistics = frameworkStatistics
          ? new CalibrationRun.BatchStatistics(bn.op().name() + ":3", bn.op().name() + ":4")
          : null;
      InGraphMoments moments = InGraphMoments.add(g, tf, fed, layer).orElseThrow();
      CalibrationRun.Capture capture = new CalibrationRun.Capture(0, layer, input, output, true, null, statistics,
          new CalibrationRun.InGraph(moments, null, input, output));
      CalibrationAccumulator sink = new CalibrationAccumulator();
      CalibrationRun.run(session, List.of(new Feed(List.of(fed), new InputArray.Numbers(data), DataType.DT_FLOAT,
          Feed.Batching.BATCHES, null)),
          new CalibrationRun.Plan(List.of(capture), List.of(), n, Long.MAX_VALUE, CalibrationRun.Plan.Pass.INFERENCE_VIEW,
          CalibrationRun.Plan.Use.JUDGED), sink, "test");
      return sink.layer(0).orElseThrow().selfCheck().orElseThrow();
    }
  }

  @Test
  void aTrainingModeNodeIsCheckedWithTheStatisticsTensorFlowNormalizedWith() {
    // channel means 5 to 160 standard deviations from zero over 100,352 values: TensorFlow's
    // float32 sums are off by about 5e-4 of the output, beyond the 1e-4 tolerance; with its own
    // statistics, only the normalization is compared
    SelfCheck withTheirs = trainingModeSelfCheck(true);
    assertThat(withTheirs.trainingMode()).isTrue();
    assertThat(withTheirs.relativeDifference()).isLessThan(SelfCheck.TOLERANCE / 10);
    assertThat(trainingModeSelfCheck(false).passed()).as("with bncheck's exact statistics instead").isFalse();
  }

  /**
   * Without oneDNN, TensorFlow's CPU kernels refuse channels-first convolutions (TensorFlow turns
   * oneDNN on by itself only on CPUs with AVX-512 VNNI and newer): that is the CPU's doing, not
   * the data's, and the message says how to run the model.
   */
  @Test
  void channelsFirstRefusedByTheCpuKernelsIsNotBlamedOnTheData() {
    var refusal = new org.tensorflow.exceptions.TensorFlowException("The Conv2D op currently only supports the NHWC"
        + " tensor format on the CPU. The op was given the format: NCHW\n\t [[{{node conv/Conv2D}}]]");

    assertThat(ModelOutputs.cannotRun("x=x.npy", refusal, false)).startsWith("the model cannot run on this CPU without oneDNN:")
        .endsWith("(set TF_ENABLE_ONEDNN_OPTS=1, as bin/bncheck does, to run channels-first models)");
    assertThat(ModelOutputs.cannotRun("x=x.npy", new org.tensorflow.exceptions.TensorFlowException("Incompatible"
        + " shapes: [2,3] vs. [2,4]"), false)).isEqualTo("the model cannot run on this data: Incompatible shapes: [2,3] vs. [2,4]");
  }
}
