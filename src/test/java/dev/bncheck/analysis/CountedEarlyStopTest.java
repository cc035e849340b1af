package dev.bncheck.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bncheck.engine.ChannelExtreme;
import dev.bncheck.engine.DivergenceMetrics;
import org.junit.jupiter.api.Test;

class CountedEarlyStopTest {

  /**
   * One channel of data with mean 1 and variance 1, a count leaving half of 0/1: the prediction is
   * a moving mean of 0.5 (standardized shift -0.5) and a moving variance of 0.5 + 0.5 = 1 (no
   * variance difference, so that term drops out). 100 calibration samples and statistics averaged
   * over 100: the shift's standard error is sqrt(1/100 + 1/100) = 0.141421, and a shift of -0.5 as
   * predicted scores 0.5 / 0.141421 = 3.5355; the opposite shift scores -3.5355.
   */
  @Test
  void aShiftAsPredictedScoresItsOwnStandardizedSize() {
    SamplingError chance = new SamplingError(100, 3, 100);
    assertEquals(3.5355339, CountedEarlyStop.score(0.5, 0, metrics(1, 1, -0.5, 1), chance, new double[] {1}), 1e-6);
    assertEquals(-3.5355339, CountedEarlyStop.score(0.5, 0, metrics(1, 1, 0.5, 1), chance, new double[] {1}), 1e-6);
  }

  /**
   * Two channels of data with mean 0 and variance 0.25, a count leaving 20% of 0/1: each predicted
   * moving variance is 0.2 + 0.8 * 0.25 = 0.4, a log ratio of ln 1.6 = 0.470004 (the means predict
   * no shift). 101 samples, no moving-average noise: the log ratio's standard error is sqrt(2/100)
   * = 0.141421. Channel 0 as predicted, channel 1 unmoved: T = 0.470004^2 / 0.02, bounded by
   * 2 * 0.470004 / 0.141421, a score of 0.4700036 / 0.2828427 = 1.661714. A channel whose variance
   * cannot be judged (infinite inflation) drops out: channel 0's then leaves channel 1's 0.
   */
  @Test
  void varianceRatiosAddUpAcrossChannelsAndUnjudgedOnesDropOut() {
    SamplingError chance = new SamplingError(101, 3, Double.POSITIVE_INFINITY);
    DivergenceMetrics m = new DivergenceMetrics(new double[] {0, 0}, new double[] {0.25, 0.25}, new double[] {0, 0},
        new double[] {1.6, 1}, new double[] {0, 0}, new ChannelExtreme(0, 0), new ChannelExtreme(0, 1.6), 0);
    assertEquals(1.661714, CountedEarlyStop.score(0.2, 0, m, chance, new double[] {1, 1}), 1e-6);
    assertEquals(0, CountedEarlyStop.score(0.2, 0, m, chance, new double[] {Double.POSITIVE_INFINITY, 1}), 1e-12);
  }

  @Test
  void theLimitIsOneTestPerLayer() {
    assertEquals(2.3263479, CountedEarlyStop.criticalValue(1), 1e-6);
    assertEquals(2.5758293, CountedEarlyStop.criticalValue(2), 1e-6);
  }

  private static DivergenceMetrics metrics(double mean, double variance, double shift, double ratio) {
    return new DivergenceMetrics(new double[] {mean}, new double[] {variance}, new double[] {shift},
        new double[] {ratio}, new double[] {0}, new ChannelExtreme(0, shift), new ChannelExtreme(0, ratio), 0);
  }
}
