package dev.bncheck.analysis;

/**
 * The limits of the data-driven and statistical checks. Defaults are documented in
 * docs/findings.md; each has a command-line option.
 *
 * @param meanShiftWarning |standardized mean shift| from which BN003 warns
 * @param meanShiftError |standardized mean shift| from which BN003 is an error
 * @param varianceRatioWarning variance ratio r (or 1/r) from which BN003 warns
 * @param varianceRatioError variance ratio r (or 1/r) from which BN003 is an error
 * @param modeRmsError relative RMS difference of the two modes' outputs from which BN004 fires
 * @param deadEpsilonFactor BN006 flags a channel whose moving variance is below this times epsilon
 * @param deadMedianFactor BN006 flags a channel whose moving variance is below this times the
 *     layer's median moving variance
 */
public record Thresholds(
    double meanShiftWarning,
    double meanShiftError,
    double varianceRatioWarning,
    double varianceRatioError,
    double modeRmsError,
    double deadEpsilonFactor,
    double deadMedianFactor) {

  public static final Thresholds DEFAULTS = new Thresholds(0.25, 0.5, 1.5, 2.0, 0.3, 0.01, 1e-4);

  public Thresholds {
    requirePositive("mean shift warning", meanShiftWarning);
    requirePositive("mean shift error", meanShiftError);
    requirePositive("mode RMS error", modeRmsError);
    requirePositive("dead epsilon factor", deadEpsilonFactor);
    requirePositive("dead median factor", deadMedianFactor);
    if (!(varianceRatioWarning > 1.0) || !(varianceRatioError > 1.0)) {
      throw new IllegalArgumentException("variance ratio thresholds must be greater than 1");
    }
    if (meanShiftError < meanShiftWarning) {
      throw new IllegalArgumentException("the mean shift error threshold is below the warning threshold");
    }
    if (varianceRatioError < varianceRatioWarning) {
      throw new IllegalArgumentException("the variance ratio error threshold is below the warning threshold");
    }
  }

  private static void requirePositive(String what, double value) {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(what + " threshold must be a positive number, got " + value);
    }
  }
}
