package dev.bncheck.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The early-stop fit on hand-computed statistics. */
class EmaFitTest {

  private static final double[] POPULATION_MEAN = {2.0, -1.0, 0.5, 3.0};
  private static final double[] POPULATION_VARIANCE = {0.25, 4.0, 0.5, 2.0};

  /** moving = (1 - w) * initial + w * population, channel by channel. */
  private static double[][] stoppedAt(double w) {
    double[] mean = new double[4];
    double[] variance = new double[4];
    for (int c = 0; c < 4; c++) {
      mean[c] = w * POPULATION_MEAN[c];
      variance[c] = (1 - w) + w * POPULATION_VARIANCE[c];
    }
    return new double[][] {mean, variance};
  }

  @Test
  void anAverageStoppedAFifthOfTheWayFitsExactlyAndGivesItsUpdates() {
    double[][] moving = stoppedAt(0.2);

    EmaFit fit = EmaFit.fit(moving[0], moving[1], POPULATION_MEAN, POPULATION_VARIANCE);

    assertThat(fit.weight()).isCloseTo(0.2, within(1e-12));
    assertThat(fit.relativeResidual()).isCloseTo(0.0, within(1e-12));
    assertThat(fit.meanWeight()).isCloseTo(0.2, within(1e-12));
    assertThat(fit.varianceWeight()).isCloseTo(0.2, within(1e-12));
    assertThat(fit.fitsEarlyStop()).isTrue();
    // 1 - 0.99^k = 0.2: k = ln 0.8 / ln 0.99 = 22.20
    assertThat(fit.updates(0.99).orElseThrow()).isCloseTo(22.2024, within(1e-3));
  }

  /**
   * Means shifted by a constant while the variances equal the data's (an input offset): the means
   * alone fit w = sum(m p) / sum(p^2), the variances w = 1; one average cannot do both.
   */
  @Test
  void meansThatMovedWithoutTheVariancesAreNoEarlyStop() {
    double[] movingMean = {1.0, -2.0, -0.5, 2.0};

    EmaFit fit = EmaFit.fit(movingMean, POPULATION_VARIANCE, POPULATION_MEAN, POPULATION_VARIANCE);

    // (2 + 2 - 0.25 + 6) / (4 + 1 + 0.25 + 9) = 9.75 / 14.25
    assertThat(fit.meanWeight()).isCloseTo(9.75 / 14.25, within(1e-12));
    assertThat(fit.varianceWeight()).isCloseTo(1.0, within(1e-12));
    assertThat(fit.statisticsMovedAlike()).isFalse();
    assertThat(fit.fitsEarlyStop()).isFalse();
    assertThat(fit.updates(0.99)).isEmpty();
  }

  /**
   * Shares still to go of 0.8 and 0.55 are 22 and 59 updates at decay 0.99, within the factor 3;
   * 0.8 and 0.3 are 22 and 120, and 0.98 and 0.40 (an outside tester's data shifted by 1, its
   * heavy-tailed variances fitting 2 updates, its means 92) do not agree.
   */
  @Test
  void theUpdateCountsMustAgreeWithinAFactorOfThree() {
    assertThat(new EmaFit(0.5, 0.1, 0.2, 0.45).statisticsMovedAlike()).isTrue();
    assertThat(new EmaFit(0.5, 0.1, 0.2, 0.7).statisticsMovedAlike()).isFalse();
    assertThat(new EmaFit(0.05, 0.1, 0.603, 0.019).statisticsMovedAlike()).isFalse();
    // nearly arrived: 0.05 and 0.15 still to go differ by 0.1, within the slack
    assertThat(new EmaFit(0.9, 0.1, 0.95, 0.85).statisticsMovedAlike()).isTrue();
  }

  /**
   * Variances that are already about 1 say nothing about how far an average moved: their own fit
   * is left out, and the means decide.
   */
  @Test
  void statisticsAtTheirInitialValuesDoNotVote() {
    double[] populationVariance = {1.05, 0.95, 1.0, 1.02};
    double[] movingMean = new double[4];
    for (int c = 0; c < 4; c++) {
      movingMean[c] = 0.3 * POPULATION_MEAN[c];
    }

    EmaFit fit = EmaFit.fit(movingMean, populationVariance, POPULATION_MEAN, populationVariance);

    assertThat(fit.varianceWeight()).isNaN();
    assertThat(fit.meanWeight()).isCloseTo(0.3, within(1e-12));
    assertThat(fit.statisticsMovedAlike()).isTrue();
  }
}
