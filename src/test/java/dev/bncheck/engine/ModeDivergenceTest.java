package dev.bncheck.engine;

import static dev.bncheck.engine.AllClose.assertAllClose;
import static dev.bncheck.engine.AllClose.assertClose;
import static dev.bncheck.engine.TestData.layer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ModeDivergenceTest {

  private static final double EPSILON = 1e-3;
  // Per channel: the data's mean and standard deviation. The last channel's variance (1e-4) is
  // below epsilon, where the reference norm's v / (v + eps) factor matters.
  private static final double[] MEAN = {-2, 0.5, 3, 10};
  private static final double[] STD = {1, 0.5, 2, 0.01};
  // Channel 2 has gamma 0: both outputs are beta there, and its divergence is defined as 0.
  private static final double[] GAMMA = {1.5, -0.7, 0, 2};
  private static final double[] BETA = {0.3, -1, 2, 0.1};

  record Case(String layout, int[] batchShape, int axis, boolean farStatistics, boolean float32) {
    @Override
    public String toString() {
      return layout + " " + Arrays.toString(batchShape) + (farStatistics ? ", far" : ", close")
          + " statistics, " + (float32 ? "float32" : "float64");
    }
  }

  static Stream<Case> layersAndBatches() {
    List<Case> cases = new ArrayList<>();
    for (boolean far : new boolean[] {false, true}) {
      cases.add(new Case("rank 2", new int[] {12, 4}, 1, far, far));
      cases.add(new Case("NHWC", new int[] {2, 3, 4, 4}, 3, far, !far));
      cases.add(new Case("NCHW", new int[] {2, 4, 3, 4}, 1, far, far));
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("layersAndBatches")
  void divergenceFromMomentsEqualsRelativeRmsOfMaterializedOutputs(Case c) {
    Random random = new Random(c.toString().hashCode());
    double[] movingMean = new double[4];
    double[] movingVariance = new double[4];
    for (int ch = 0; ch < 4; ch++) {
      double variance = STD[ch] * STD[ch];
      if (c.farStatistics()) {
        movingMean[ch] = MEAN[ch] + (ch % 2 == 0 ? 3 : -3) * STD[ch];
        movingVariance[ch] = variance * (ch % 2 == 0 ? 10 : 0.1);
      } else {
        movingMean[ch] = MEAN[ch] + 0.05 * STD[ch];
        movingVariance[ch] = variance * 1.05;
      }
    }
    BnLayer layer = layer(c.axis(), GAMMA, BETA, movingMean, movingVariance, EPSILON);
    // Three batches that drift apart, so each batch's own statistics differ from the population's.
    List<Tensor> batches = new ArrayList<>();
    for (int b = 0; b < 3; b++) {
      batches.add(normalBatch(c.batchShape(), c.axis(), 0.3 * (b - 1), 1 + 0.2 * b, c.float32(), random));
    }

    List<ChannelMoments> moments = batches.stream().map(x -> MomentsKernel.compute(x, c.axis())).toList();
    ModeDivergence actual = ModeDivergence.of(layer, moments);
    Materialized expected = Materialized.of(layer, batches, c.axis());

    assertThat(actual.perChannel()).hasSize(4);
    assertThat(actual.perChannel()[2]).as("gamma-0 channel").isZero();
    assertAllClose(c + " per channel", actual.perChannel(), expected.perChannel(),
        Tolerances.MODE_DIVERGENCE_ABSOLUTE, Tolerances.MODE_DIVERGENCE_RELATIVE);
    assertClose(c + " layer", actual.layer(), expected.layer(),
        Tolerances.MODE_DIVERGENCE_ABSOLUTE, Tolerances.MODE_DIVERGENCE_RELATIVE);
    if (c.farStatistics()) {
      assertThat(actual.layer()).as("far statistics diverge").isGreaterThan(1.0);
    } else {
      assertThat(actual.layer()).as("close statistics stay close").isBetween(0.01, 0.5);
    }
  }

  @Test
  void divergenceVanishesWhenMovingStatisticsAreTheBatchsOwnMeanAndBiasedVariance() {
    int[] shape = {2, 4, 3, 4};
    Tensor x = normalBatch(shape, 1, 0, 1, false, new Random(5));
    Nd4jBatchNorm.Moments own = Nd4jBatchNorm.moments(x, 1);
    List<ChannelMoments> moments = List.of(MomentsKernel.compute(x, 1));

    ModeDivergence biased = ModeDivergence.of(layer(1, GAMMA, BETA, own.mean(), own.biasedVariance(), EPSILON), moments);
    assertAllClose("per channel", biased.perChannel(), new double[4], Tolerances.MODE_DIVERGENCE_ABSOLUTE, 0);
    assertClose("layer", biased.layer(), 0, Tolerances.MODE_DIVERGENCE_ABSOLUTE, 0);

    // With the unbiased variance (what TF and PyTorch feed their moving averages) the modes
    // differ by about 1 - sqrt((n - 1) / n) = 2.1 % for n = 24: training mode uses the biased one.
    BnLayer unbiasedLayer = layer(1, GAMMA, BETA, own.mean(), own.unbiasedVariance(), EPSILON);
    ModeDivergence unbiased = ModeDivergence.of(unbiasedLayer, moments);
    assertThat(unbiased.layer()).isBetween(0.015, 0.025);
    assertClose("unbiased layer", unbiased.layer(), Materialized.of(unbiasedLayer, List.of(x), 1).layer(),
        Tolerances.MODE_DIVERGENCE_ABSOLUTE, Tolerances.MODE_DIVERGENCE_RELATIVE);
  }

  @Test
  void divergenceOfATinyLayerEqualsHandComputedValues() {
    // eps = 0, batch [[1, 2], [3, 6]] with channel axis 1.
    // Channel 0: x = [1, 3], mean 2, biased var 1; gamma 2, moving mean 0, moving var 4.
    //   y_train - beta = 2 * (x - 2) / 1 = [-2, 2]          ||.||^2 = 8
    //   y_inf - beta   = 2 * (x - 0) / 2 = [1, 3]
    //   difference     = [-3, -1]                           ||.||^2 = 10
    //   divergence = sqrt(10 / 8) = sqrt(1.25)
    // Channel 1: x = [2, 6], mean 4, biased var 4; gamma 1, moving mean 4, moving var 4.
    //   y_train - beta = (x - 4) / 2 = [-1, 1]               ||.||^2 = 2
    //   y_inf equals y_train                                 ||.||^2 = 0
    //   divergence = 0
    // Layer: sqrt((10 + 0) / (8 + 2)) = 1.
    BnLayer layer = layer(1, new double[] {2, 1}, new double[] {5, -3}, new double[] {0, 4}, new double[] {4, 4}, 0);
    ChannelMoments moments = MomentsKernel.compute(new Tensor.Float64(new int[] {2, 2}, new double[] {1, 2, 3, 6}), 1);

    ModeDivergence d = ModeDivergence.of(layer, List.of(moments));

    assertAllClose("per channel", d.perChannel(), new double[] {Math.sqrt(1.25), 0}, Tolerances.HAND_COMPUTED, 0);
    assertClose("layer", d.layer(), 1.0, Tolerances.HAND_COMPUTED, 0);
  }

  @Test
  void trainingModeNormalizesEachBatchWithItsOwnStatisticsNotThePopulations() {
    // eps = 0, one channel, gamma 1, two batches [1, 3] and [5, 7]. The moving statistics equal
    // the population's (mean 4, biased var (9 + 1 + 1 + 9) / 4 = 5), yet the modes differ:
    //   y_train - beta = [-1, 1] in each batch (batch means 2 and 6, batch vars 1) ||.||^2 = 4
    //   y_inf - beta   = [-3, -1, 1, 3] / sqrt(5)
    //   ||difference||^2 = 2 (1 - 3/sqrt5)^2 + 2 (1 + 1/sqrt5)^2 = 8 - 8/sqrt5
    //   divergence = sqrt(2 - 2/sqrt5) = 1.0514622...
    // Normalizing with the population's statistics instead would give 0.
    BnLayer layer = layer(1, new double[] {1}, new double[] {0}, new double[] {4}, new double[] {5}, 0);
    List<ChannelMoments> batches = List.of(
        MomentsKernel.compute(new Tensor.Float64(new int[] {2, 1}, new double[] {1, 3}), 1),
        MomentsKernel.compute(new Tensor.Float64(new int[] {2, 1}, new double[] {5, 7}), 1));

    ModeDivergence d = ModeDivergence.of(layer, batches);

    double expected = Math.sqrt(2 - 2 / Math.sqrt(5));
    assertThat(expected).isCloseTo(1.0514622, within(1e-7));
    assertClose("channel 0", d.perChannel()[0], expected, Tolerances.HAND_COMPUTED, 0);
    assertClose("layer", d.layer(), expected, Tolerances.HAND_COMPUTED, 0);
  }

  // ---- helpers

  /** The reference: both modes materialized by ND4J, and the ratio of norms summed over batches. */
  record Materialized(double[] perChannel, double layer) {
    static Materialized of(BnLayer layer, List<Tensor> batches, int axis) {
      int channels = layer.channels();
      double[] diff = new double[channels];
      double[] reference = new double[channels];
      for (Tensor x : batches) {
        double[] train = Nd4jBatchNorm.trainingMode(x, axis, layer);
        double[] inference = Nd4jBatchNorm.inferenceMode(x, axis, layer);
        double[] trainMinusInference = new double[train.length];
        double[] trainMinusBeta = new double[train.length];
        for (int i = 0; i < train.length; i++) {
          trainMinusInference[i] = train[i] - inference[i];
          trainMinusBeta[i] = train[i] - layer.beta()[TestData.channelOf(i, x.shape(), axis)];
        }
        double[] d = Nd4jBatchNorm.sumOfSquaresPerChannel(trainMinusInference, x.shape(), axis);
        double[] r = Nd4jBatchNorm.sumOfSquaresPerChannel(trainMinusBeta, x.shape(), axis);
        for (int c = 0; c < channels; c++) {
          diff[c] += d[c];
          reference[c] += r[c];
        }
      }
      double[] perChannel = new double[channels];
      for (int c = 0; c < channels; c++) {
        perChannel[c] = diff[c] == 0 && reference[c] == 0 ? 0 : Math.sqrt(diff[c] / reference[c]);
      }
      return new Materialized(perChannel, Math.sqrt(Arrays.stream(diff).sum() / Arrays.stream(reference).sum()));
    }
  }

  /** Channel c ~ N(MEAN[c] + drift * STD[c], (spread * STD[c])^2). */
  private static Tensor normalBatch(int[] shape, int axis, double drift, double spread, boolean float32, Random random) {
    int size = (int) Tensor.elementCount(shape);
    double[] values = new double[size];
    for (int i = 0; i < size; i++) {
      int c = TestData.channelOf(i, shape, axis);
      values[i] = MEAN[c] + drift * STD[c] + spread * STD[c] * random.nextGaussian();
    }
    return TestData.tensor(shape, values, float32);
  }

  @Test
  void theSamplingFloorIsTheDivergenceWithThePopulationsOwnStatistics() {
    // The two batches above, [1, 3] and [5, 7]: with the population's statistics (mean 4, biased
    // var 5) in place of the moving ones the divergence is sqrt(2 - 2/sqrt5) = 1.0514622, whatever
    // the layer's moving statistics are.
    BnLayer stale = layer(1, new double[] {1}, new double[] {0}, new double[] {-20}, new double[] {0.01}, 0);
    List<ChannelMoments> batches = List.of(
        MomentsKernel.compute(new Tensor.Float64(new int[] {2, 1}, new double[] {1, 3}), 1),
        MomentsKernel.compute(new Tensor.Float64(new int[] {2, 1}, new double[] {5, 7}), 1));
    ChannelMoments population = batches.get(0).merge(batches.get(1));

    ModeDivergence floor = ModeDivergence.samplingFloor(stale, batches, population);

    assertClose("floor", floor.layer(), Math.sqrt(2 - 2 / Math.sqrt(5)), Tolerances.HAND_COMPUTED, 0);
    assertThat(ModeDivergence.of(stale, batches).layer()).as("the stale statistics' own divergence").isGreaterThan(5);
  }
}
