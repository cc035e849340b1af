package dev.bncheck.engine;

import java.util.OptionalDouble;

/**
 * Fits the moving statistics as an exponential average that started from the initial values (0
 * for the mean, 1 for the variance) and moved a fraction w of the way to the population:
 * {@code moving = (1 - w) * initial + w * population}. After k updates with decay d,
 * w = 1 - d^k, so w gives k when the decay is known. One w is fitted over all channels of both
 * statistics by least squares; the means and the variances are also fitted on their own, since
 * one average moves both alike and a shift that moves only one of them is not an early stop.
 *
 * @param weight the fitted fraction w
 * @param relativeResidual RMS of the residuals over RMS of (population - initial); small when
 *     the pattern fits
 * @param meanWeight w fitted on the means alone, NaN when the population's means are too close
 *     to the initial 0 to tell
 * @param varianceWeight w fitted on the variances alone, NaN when the population's variances are
 *     too close to the initial 1 to tell
 */
public record EmaFit(double weight, double relativeResidual, double meanWeight, double varianceWeight) {

  /** Largest relative residual for which the pattern counts as an early-stopped average. */
  public static final double MAX_RESIDUAL = 0.25;

  /**
   * How far from the initial values a statistic must be, as an RMS over channels, for its own w
   * to count: means in units of the population's standard deviation, variances relatively.
   * Closer, sampling error dominates the fitted w.
   */
  static final double INFORMATIVE = 0.25;

  /**
   * The updates an average made, ln(1 - w) / ln(d) whatever the decay d, fitted on the means and
   * on the variances: an early stop gives the same count to both, within this factor... Shares
   * still to go (1 - w) within a factor of 3 had been enough, which let 0.40 on the means and 0.98
   * on the variances (92 and 2 updates at decay 0.99) pass as one average: an outside tester's
   * Keras MLP fed data shifted by 1 was named an early stop of "about 2, 5, 21 updates" on 32, 64
   * and 256 samples, a fit the heavy-tailed variances made alone (the healthy model fitted the same).
   */
  static final double UPDATES_AGREEMENT = 3.0;

  /** ...or shares within this difference, for averages that have nearly arrived (1 - w near 0). */
  static final double SHARE_SLACK = 0.15;

  public static EmaFit fit(double[] movingMean, double[] movingVariance, double[] populationMean, double[] populationVariance) {
    double meanNum = 0;
    double meanDen = 0;
    double varianceNum = 0;
    double varianceDen = 0;
    double standardizedMeans = 0;
    int channels = movingMean.length;
    for (int c = 0; c < channels; c++) {
      double pv = populationVariance[c] - 1.0;
      meanNum += movingMean[c] * populationMean[c];
      meanDen += populationMean[c] * populationMean[c];
      varianceNum += (movingVariance[c] - 1.0) * pv;
      varianceDen += pv * pv;
      standardizedMeans += populationMean[c] * populationMean[c] / Math.max(populationVariance[c], 1e-12);
    }
    double num = meanNum + varianceNum;
    double den = meanDen + varianceDen;
    if (!(den > 0) || !Double.isFinite(num)) {
      return new EmaFit(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    double w = num / den;
    double residual = 0;
    for (int c = 0; c < channels; c++) {
      double rm = movingMean[c] - w * populationMean[c];
      double rv = (movingVariance[c] - 1.0) - w * (populationVariance[c] - 1.0);
      residual += rm * rm + rv * rv;
    }
    double meanWeight = channels > 0 && Math.sqrt(standardizedMeans / channels) >= INFORMATIVE
        ? meanNum / meanDen : Double.NaN;
    double varianceWeight = channels > 0 && Math.sqrt(varianceDen / channels) >= INFORMATIVE
        ? varianceNum / varianceDen : Double.NaN;
    return new EmaFit(w, Math.sqrt(residual / den), meanWeight, varianceWeight);
  }

  /**
   * Whether the means and the variances moved alike, as one average moves them: as many updates,
   * within {@link #UPDATES_AGREEMENT}, or nearly arrived both; true when either cannot tell. A constant offset in the data (a mean subtraction that differs) moves only the
   * means' fit, leaving the variances where the data has them.
   */
  public boolean statisticsMovedAlike() {
    if (Double.isNaN(meanWeight) || Double.isNaN(varianceWeight)) {
      return true;
    }
    double meanShare = Math.max(1.0 - meanWeight, 0.0);
    double varianceShare = Math.max(1.0 - varianceWeight, 0.0);
    if (Math.abs(meanShare - varianceShare) <= SHARE_SLACK) {
      return true;
    }
    double meanUpdates = -Math.log(Math.min(meanShare, 1.0));
    double varianceUpdates = -Math.log(Math.min(varianceShare, 1.0));
    return Math.max(meanUpdates, varianceUpdates) <= UPDATES_AGREEMENT * Math.min(meanUpdates, varianceUpdates);
  }

  /** Whether the statistics look like an average that stopped part of the way from 0/1. */
  public boolean fitsEarlyStop() {
    return relativeResidual <= MAX_RESIDUAL && weight > 0.0 && weight < 0.95 && statisticsMovedAlike();
  }

  /** The number of updates that leaves fraction 1 - w of the start with this decay. */
  public OptionalDouble updates(double decay) {
    if (!fitsEarlyStop() || !(decay > 0.0 && decay < 1.0)) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of(Math.log(1.0 - weight) / Math.log(decay));
  }
}
