package dev.bncheck.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SamplingErrorTest {

  /** Upper-tail quantiles of the standard normal distribution, from published tables. */
  @ParameterizedTest(name = "{arguments}")
  @CsvSource({
      "0.5, 0.0",
      "0.1, 1.2815515655",
      "0.05, 1.6448536270",
      "0.025, 1.9599639845",
      "0.01, 2.3263478740",
      "0.001, 3.0902323062",
      "1e-4, 3.7190164855",
      "1e-6, 4.7534243088",
      "1e-9, 5.9978070150",
      "0.975, -1.9599639845"})
  void criticalValuesMatchTables(double p, double expected) {
    assertEquals(expected, SamplingError.criticalValue(p), 1e-8);
  }

  @Test
  void theFamilyWiseRateIsSharedAmongTheTests() {
    // 0.01 over 16 tests: P(Z > z) = 6.25e-4, z = 3.2272...
    assertEquals(3.2272, SamplingError.of(64, 16).z(), 1e-4);
    assertEquals(SamplingError.criticalValue(0.01), SamplingError.of(64, 1).z(), 1e-12);
  }

  @Test
  void aShiftCountsWhenItExceedsTheThresholdByMoreThanChance() {
    // 100 samples: standard error 0.1; z = 2.3263 for one test, margin 0.23263
    SamplingError chance = SamplingError.of(100, 1);
    assertEquals(0.1, chance.meanShiftError(), 1e-15);
    assertTrue(chance.meanShiftBeyond(0.74, 0.5));
    assertTrue(chance.meanShiftBeyond(-0.74, 0.5));
    assertFalse(chance.meanShiftBeyond(0.73, 0.5));
    assertFalse(chance.meanShiftBeyond(Double.NaN, 0.5));
  }

  @Test
  void aVarianceRatioCountsOnTheLogScale() {
    // 101 samples: standard error of ln(ratio) sqrt(2/100) = 0.141421; margin 0.328995 for one test
    SamplingError chance = SamplingError.of(101, 1);
    assertEquals(Math.sqrt(0.02), chance.logVarianceRatioError(), 1e-15);
    double limit = Math.exp(Math.log(2) + 0.328995);
    assertTrue(chance.varianceRatioBeyond(limit * 1.001, 2));
    assertFalse(chance.varianceRatioBeyond(limit * 0.999, 2));
    assertTrue(chance.varianceRatioBeyond(1 / (limit * 1.001), 2));
    assertFalse(chance.varianceRatioBeyond(1 / (limit * 0.999), 2));
  }

  @Test
  void theSamplesToJudgeAThresholdPutChanceBelowIt() {
    // z = 2.3263 for one test: (2.3263 / 0.5)^2 = 21.65, so 22 samples
    assertEquals(22, SamplingError.of(50, 1).samplesToJudge(0.5));
    // 0.01 over 1000 tests: z = 4.2649, (4.2649 / 0.5)^2 = 72.76
    assertEquals(73, SamplingError.of(50, 1000).samplesToJudge(0.5));
  }

  @Test
  void oneSampleHasNoSamplingError() {
    assertThrows(IllegalArgumentException.class, () -> SamplingError.of(1, 1));
    assertThrows(IllegalArgumentException.class, () -> SamplingError.criticalValue(0));
  }

  /** 16 batches of 64 samples of one channel, drawn by {@code draw}. */
  private static java.util.List<dev.bncheck.engine.ChannelMoments> batches(
      java.util.function.DoubleSupplier draw) {
    return batches(16, draw);
  }

  /** {@code count} batches of 64 samples of one channel, drawn by {@code draw}. */
  private static java.util.List<dev.bncheck.engine.ChannelMoments> batches(int count,
      java.util.function.DoubleSupplier draw) {
    java.util.List<dev.bncheck.engine.ChannelMoments> out = new java.util.ArrayList<>();
    for (int b = 0; b < count; b++) {
      float[] x = new float[64];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) draw.getAsDouble();
      }
      out.add(dev.bncheck.engine.MomentsKernel.compute(new dev.bncheck.model.Tensor.Float32(new int[] {64, 1}, x), 1));
    }
    return out;
  }

  /**
   * Normal data varies as normal theory says; log-normal data (sigma 1, kurtosis about 114)
   * varies several times more, and the tests widen by that much.
   */
  @Test
  void heavyTailsWidenTheVarianceTest() {
    java.util.Random random = new java.util.Random(3);
    double normal = SamplingError.logVarianceSpread(batches(random::nextGaussian), 64)[0];
    double logNormal = SamplingError.logVarianceSpread(batches(() -> Math.exp(random.nextGaussian())), 64)[0];
    assertEquals(1.0, normal, 0.5);
    assertTrue(logNormal > 2.0, "log-normal inflation " + logNormal);
    assertEquals(1.0, SamplingError.logVarianceSpread(batches(random::nextGaussian).subList(0, 3), 64)[0], 0.0,
        "three batches measure nothing");
    SamplingError chance = SamplingError.of(1024, 1);
    assertTrue(chance.varianceRatioBeyond(1.8, 1.5));
    assertFalse(chance.varianceRatioBeyond(1.8, 1.5, logNormal));
  }

  /** Values from the closed forms trigamma(1) = pi^2/6, trigamma(1/2) = pi^2/2 and the recurrence. */
  @ParameterizedTest(name = "trigamma({0}) = {1}")
  @CsvSource({
      "1.0, 1.6449340668482264",
      "0.5, 4.934802200544679",
      "3.5, 0.3303577561002347",
      "2.0, 0.6449340668482264",
      "40.5, 0.0249986982013567"})
  void trigammaMatchesClosedForms(double x, double expected) {
    assertEquals(expected, SamplingError.trigamma(x), 1e-9 * expected);
  }

  /**
   * The log variance of k + 1 normal values has the standard deviation sqrt(trigamma(k / 2)):
   * 2.2214 for 2 values (sqrt(pi^2 / 2)), where the large-sample sqrt(2 / k) says 1.414.
   */
  @Test
  void theNormalSpreadOfALogVarianceIsExactForSmallSets() {
    assertEquals(Math.sqrt(Math.PI * Math.PI / 2), SamplingError.normalLogVarianceSpread(2), 1e-10);
    assertEquals(Math.sqrt(2.0 / 1000), SamplingError.normalLogVarianceSpread(1001), 1e-3 * Math.sqrt(2.0 / 1000));
  }

  /** Fewer than four batches cannot show the tails: the test widens by the prior unless groups show more. */
  @Test
  void fewBatchesWidenTheVarianceTestByThePriorOrByTheGroups() {
    java.util.Random random = new java.util.Random(5);
    var normal = batches(random::nextGaussian);
    var calibration = new dev.bncheck.engine.LayerCalibration(normal.subList(0, 2), normal.get(0).merge(normal.get(1)),
        new int[] {64, 1});
    assertEquals(SamplingError.UNMEASURED_TAILS, SamplingError.varianceInflation(calibration)[0], 0.0);

    var fourBatches = new dev.bncheck.engine.LayerCalibration(normal.subList(0, 4), normal.get(0), new int[] {64, 1});
    assertEquals(1.0, SamplingError.varianceInflation(fourBatches)[0], 0.5, "four batches measure the tails");

    // one sample in 64 a hundred times larger than the rest: the group that holds it stands out
    var outlierGroups = new java.util.ArrayList<dev.bncheck.engine.ChannelMoments>();
    for (int g = 0; g < 8; g++) {
      float[] x = new float[8];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (random.nextGaussian() * (g == 3 && i == 0 ? 100 : 1));
      }
      outlierGroups.add(dev.bncheck.engine.MomentsKernel.compute(
          new dev.bncheck.model.Tensor.Float32(new int[] {8, 1}, x), 1));
    }
    var withGroups = new dev.bncheck.engine.LayerCalibration(normal.subList(0, 1), normal.get(0), new int[] {64, 1},
        java.util.Optional.empty(), 1.0, new dev.bncheck.engine.SampleGroups(outlierGroups, 8));
    assertTrue(SamplingError.varianceInflation(withGroups)[0] > 3, "inflation " +
        SamplingError.varianceInflation(withGroups)[0]);
  }

  private static dev.bncheck.model.BnLayer layer(java.util.OptionalDouble momentum,
      dev.bncheck.model.MomentumConvention convention, java.util.OptionalLong tracked) {
    double[] one = {1.0};
    return new dev.bncheck.model.BnLayer("bn", "bn", 1, 1e-5, momentum, convention, tracked, one, true,
        new double[1], true, new double[1], one, java.util.Optional.empty());
  }

  /**
   * An exponential average of decay d varies as a plain mean of (1 + d) / (1 - d) batches: 19 at
   * PyTorch's 0.1, 199 at Keras's 0.99, each of the assumed 32 samples; a cumulative average
   * (momentum None) as the mean of all its batches; an unknown momentum as Keras's default.
   */
  @Test
  void theMovingStatisticsRestOnTheSamplesOfTheirLastBatches() {
    var pytorch = dev.bncheck.model.MomentumConvention.PYTORCH;
    var keras = dev.bncheck.model.MomentumConvention.KERAS;
    var none = java.util.OptionalLong.empty();
    assertEquals(32 * 19.0, MovingAverageNoise.equivalentSamples(
        layer(java.util.OptionalDouble.of(0.1), pytorch, none)), 1e-9);
    assertEquals(32 * 199.0, MovingAverageNoise.equivalentSamples(
        layer(java.util.OptionalDouble.of(0.99), keras, none)), 1e-6);
    assertEquals(32 * 500.0, MovingAverageNoise.equivalentSamples(
        layer(java.util.OptionalDouble.empty(), null, java.util.OptionalLong.of(500))), 0.0);
    assertEquals(32 * 199.0, MovingAverageNoise.equivalentSamples(
        layer(java.util.OptionalDouble.empty(), null, none)), 1e-6);
    assertEquals(Double.POSITIVE_INFINITY, MovingAverageNoise.equivalentSamples(
        layer(java.util.OptionalDouble.of(1.0), keras, none)));
  }

  /**
   * The calibration data's error and the moving average's add in quadrature. 1,024 samples against
   * 608 (PyTorch's 0.1): the mean's error sqrt(1/1024 + 1/608) = 0.05120, the log variance's
   * sqrt(2/1023 + 2/608) = 0.07242; without the second term the errors shrank with more data and a
   * healthy model's noisy moving variance became a confident BN003 error.
   */
  @Test
  void theMovingAveragesOwnNoiseWidensTheTests() {
    SamplingError chance = SamplingError.of(1024, 1)
        .withMovingAverageOf(layer(java.util.OptionalDouble.of(0.1), dev.bncheck.model.MomentumConvention.PYTORCH,
            java.util.OptionalLong.empty()));
    assertEquals(608.0, chance.averagedSamples(), 1e-9);
    assertEquals(0.051199, chance.meanShiftError(), 1e-6);
    assertEquals(0.072419, chance.logVarianceRatioError(), 1e-6);
    assertEquals(Double.POSITIVE_INFINITY, SamplingError.of(1024, 1).averagedSamples());
    // z = 2.3263: (0.5 / z)^2 = 0.046195; less 1/608 leaves 0.044550, so 23 samples (22 without the average)
    assertEquals(23, chance.samplesToJudge(0.5));
    // at a threshold the average's noise alone nearly fills, at most twice what the data alone would need
    SamplingError noisy = new SamplingError(100, 2.3263478740, 30);
    assertEquals(2 * 22 - 1, (double) noisy.samplesToJudge(0.5), 1);
  }

  /**
   * The variances' coefficient of variation measures kurtosis (CV^2 = (kurtosis - 1) / n) where
   * the log spread compresses a rare huge value: one row in 100 twenty times larger.
   */
  @Test
  void rareOutlierRowsAreMeasuredByTheVariancesSpreadNotTheirLogs() {
    java.util.Random random = new java.util.Random(11);
    java.util.function.DoubleSupplier draw = () -> random.nextGaussian() * (random.nextDouble() < 0.01 ? 20 : 1);
    // population kurtosis: E[x^4] / E[x^2]^2 = 3 (0.99 + 0.01 * 20^4) / (0.99 + 0.01 * 20^2)^2 = 196.7
    double kurtosis = 3 * (0.99 + 0.01 * Math.pow(20, 4)) / Math.pow(0.99 + 0.01 * 400, 2);
    double expected = Math.sqrt((kurtosis - 1) / 2);
    double inflation = SamplingError.logVarianceSpread(batches(400, draw), 64)[0];
    assertEquals(expected, inflation, 0.25 * expected, "kurtosis " + kurtosis);
  }

  /** A channel whose sets by chance held no extreme value is judged with its layer's tails. */
  @Test
  void eachChannelIsJudgedWithAtLeastItsLayersMedianInflation() {
    org.assertj.core.api.Assertions.assertThat(SamplingError.atLeastTheLayersMedian(new double[] {1.6, 3.5, 5, 1, 4}))
        .containsExactly(3.5, 3.5, 5, 3.5, 4);
    org.assertj.core.api.Assertions.assertThat(SamplingError.atLeastTheLayersMedian(new double[] {1, 2, 4, 8}))
        .containsExactly(3, 3, 4, 8);
  }

  /** A shift is tested in the wider spread: 1.2 data deviations with a moving variance 9 times larger is 0.4 of its. */
  @Test
  void shiftsAreTestedInTheWiderSpread() {
    assertEquals(0.4, SamplingError.shiftInWiderSpread(1.2, 9), 1e-12);
    assertEquals(-0.4, SamplingError.shiftInWiderSpread(-1.2, 9), 1e-12);
    assertEquals(1.2, SamplingError.shiftInWiderSpread(1.2, 0.5), 1e-12);
    // 64 samples, 16 tests (z = 3.2272), M = 608: the error is sqrt(1/64 + 1/608) = 0.131414, margin 0.424103
    SamplingError chance = new SamplingError(64, SamplingError.of(64, 16).z(), 608);
    assertEquals(0.424103, chance.z() * chance.meanShiftError(), 1e-6);
    // a shift of 1.2 data deviations counts in the data's own spread, not in a moving spread 9 times wider
    assertTrue(chance.meanShiftBeyond(SamplingError.shiftInWiderSpread(1.2, 1), 0.5));
    assertFalse(chance.meanShiftBeyond(SamplingError.shiftInWiderSpread(1.2, 9), 0.5));
  }

  /**
   * The heaviest judgeable tails: ln(2) / (z sqrt(2 / M)). At PyTorch's momentum 0.1 (M = 608) and
   * z = 3.6: 0.693147 / (3.6 * 0.057354) = 3.3571; at Keras's 0.99 (M = 6,368): 10.864.
   */
  @Test
  void tailsBeyondTheJudgeableLimitLeaveTheMovingVarianceUndecided() {
    SamplingError pytorch = new SamplingError(256, 3.6, 608);
    assertEquals(3.3571, pytorch.judgeableTails(2), 1e-4);
    assertEquals(10.864, new SamplingError(256, 3.6, 6368).judgeableTails(2), 1e-3);
    assertTrue(pytorch.movingAverageAloneReaches(2, 3.36));
    assertFalse(pytorch.movingAverageAloneReaches(2, 3.35));
    assertEquals(Double.POSITIVE_INFINITY, SamplingError.of(256, 16).judgeableTails(2));
  }

  /**
   * With too few batches to measure the tails, channels whose data is narrower than the moving
   * variance are tested allowing tails up to the judgeable limit; wider ones, and all channels once
   * the tails are measured, keep their inflation.
   */
  @Test
  void narrowerDataAllowsForTailsTheSampleCannotShow() {
    SamplingError chance = new SamplingError(64, 3.6, 608);
    double[] inflation = {2, 2, 4};
    double[] ratios = {8, 0.2, 8};
    org.assertj.core.api.Assertions.assertThat(chance.allowingUnseenTails(inflation, ratios, false, 2))
        .containsExactly(new double[] {3.3571, 2, 4}, org.assertj.core.api.Assertions.within(1e-4));
    org.assertj.core.api.Assertions.assertThat(chance.allowingUnseenTails(inflation, ratios, true, 2))
        .containsExactly(2, 2, 4);
    // ratio 8 on 64 samples: |ln 8| - ln 2 = 1.386294; margin z f sqrt(2/63 + 2/608) = 1.348 at f = 2, 2.262 at 3.3571
    assertTrue(chance.varianceRatioBeyond(8, 2, 2));
    assertFalse(chance.varianceRatioBeyond(8, 2, 3.3571));
  }
}
