package dev.bncheck.engine;

import java.util.OptionalDouble;

/**
 * Fits the moving statistics as an exponential average that started from the initial values (0
 * for the mean, 1 for the variance) and moved a fraction w of the way to the population:
 * {@code moving = (1 - w) * initial + w * population}. After k updates with decay d,
 * w = 1 - d^k, so w gives k when the decay is known. One w is fitted over all channels of both
 * statistics by least squares.
 *
 * @param weight the fitted fraction w
 * @param relativeResidual RMS of the residuals over RMS of (population - initial); small when
 *     the pattern fits
 */
public record EmaFit(double weight, double relativeResidual) {

  /** Largest relative residual for which the pattern counts as an early-stopped average. */
  public static final double MAX_RESIDUAL = 0.25;

  public static EmaFit fit(double[] movingMean, double[] movingVariance, double[] populationMean, double[] populationVariance) {
    double num = 0;
    double den = 0;
    for (int c = 0; c < movingMean.length; c++) {
      double pv = populationVariance[c] - 1.0;
      num += movingMean[c] * populationMean[c] + (movingVariance[c] - 1.0) * pv;
      den += populationMean[c] * populationMean[c] + pv * pv;
    }
    if (!(den > 0) || !Double.isFinite(num)) {
      return new EmaFit(Double.NaN, Double.NaN);
    }
    double w = num / den;
    double residual = 0;
    for (int c = 0; c < movingMean.length; c++) {
      double rm = movingMean[c] - w * populationMean[c];
      double rv = (movingVariance[c] - 1.0) - w * (populationVariance[c] - 1.0);
      residual += rm * rm + rv * rv;
    }
    return new EmaFit(w, Math.sqrt(residual / den));
  }

  /** Whether the statistics look like an average that stopped part of the way from 0/1. */
  public boolean fitsEarlyStop() {
    return relativeResidual <= MAX_RESIDUAL && weight > 0.0 && weight < 0.95;
  }

  /** The number of updates that leaves fraction 1 - w of the start with this decay. */
  public OptionalDouble updates(double decay) {
    if (!fitsEarlyStop() || !(decay > 0.0 && decay < 1.0)) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of(Math.log(1.0 - weight) / Math.log(decay));
  }
}
