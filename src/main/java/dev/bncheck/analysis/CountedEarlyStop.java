package dev.bncheck.analysis;

import dev.bncheck.engine.DivergenceMetrics;

/**
 * Whether a layer's differences from the calibration data, taken together, follow the pattern its
 * update count predicts. After k updates at decay d, an average that started at 0/1 still holds
 * w0 = d^k of them: its mean is (1 - w0) mu and its variance w0 + (1 - w0) sigma^2, where mu and
 * sigma^2 are the data's. Each channel's predicted differences p (a standardized mean shift, a log
 * variance ratio) give a direction, and the observed differences x are projected on it, each
 * weighted by its standard error s: T = sum(x p / s^2). For a healthy model whose count restarted
 * (fine-tuning from converged statistics) every x has mean 0, and however the channels' errors are
 * correlated, sd(T) <= sum(|p| / s); for a model that stopped early T is near sum(p^2 / s^2). The
 * score T / sum(|p| / s) is one test per layer, so it needs no share of the per-channel tests'
 * correction. Channels each within chance add up here: an outside tester's CNN stopped after 10
 * updates at momentum 0.1 (35% of 0/1 left; accuracy 0.86 against 0.99 with the statistics
 * recomputed) passed on 256 samples, every variance ratio of its second layer 1.4-1.9, within the
 * moving average's own noise channel by channel.
 */
final class CountedEarlyStop {

  private CountedEarlyStop() {}

  /**
   * The score of the count's prediction: near 0 when the differences are chance, large when they are
   * the early stop's; 0 where the prediction is no difference at all.
   *
   * @param initialWeight the share of 0/1 the count says the average still holds
   * @param epsilon the layer's epsilon, part of the variance ratio
   * @param varianceInflation per channel, how much wider than normal data's the variance test is;
   *     infinite where the variance cannot be judged (its term then drops out)
   */
  static double score(double initialWeight, double epsilon, DivergenceMetrics m, SamplingError chance,
      double[] varianceInflation) {
    double projection = 0;
    double bound = 0;
    double meanError = chance.meanShiftError();
    double logRatioError = chance.logVarianceRatioError();
    for (int c = 0; c < m.populationMean().length; c++) {
      double mean = m.populationMean()[c];
      double variance = m.populationVariance()[c];
      double shift = m.standardizedMeanShift()[c];
      double logRatio = Math.log(m.varianceRatio()[c]);
      if (!Double.isFinite(mean) || !Double.isFinite(variance) || !Double.isFinite(shift) || !Double.isFinite(logRatio)) {
        continue;
      }
      double predictedShift = -initialWeight * mean / Math.sqrt(variance + epsilon);
      projection += shift * predictedShift / (meanError * meanError);
      bound += Math.abs(predictedShift) / meanError;
      double logRatioSpread = varianceInflation[c] * logRatioError;
      if (Double.isFinite(logRatioSpread)) {
        double predictedLogRatio = Math.log((initialWeight + (1 - initialWeight) * variance + epsilon)
            / (variance + epsilon));
        projection += logRatio * predictedLogRatio / (logRatioSpread * logRatioSpread);
        bound += Math.abs(predictedLogRatio) / logRatioSpread;
      }
    }
    return bound > 0 ? projection / bound : 0;
  }

  /** The score a layer's prediction must pass: one test per layer, the family-wise rate shared by {@code layers}. */
  static double criticalValue(int layers) {
    return SamplingError.criticalValue(SamplingError.FAMILY_WISE_ALPHA / Math.max(1, layers));
  }
}
