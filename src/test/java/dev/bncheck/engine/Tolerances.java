package dev.bncheck.engine;

/**
 * Every numeric tolerance of the engine tests, in one place (as EJML's {@code UtilEjml} keeps
 * them), each with the reason for its size. Comparisons use numpy's {@code allclose} rule:
 * {@code |actual - expected| <= absolute + relative * |expected|}.
 */
final class Tolerances {

  private Tolerances() {}

  /** Values worked out by hand in a comment: only double rounding separates them. */
  static final double HAND_COMPUTED = 1e-12;

  /**
   * MomentsKernel against ND4J on the same values (widened to double on both sides): both
   * reduce in double, by different algorithms, so they agree to a few hundred ulps. Applied
   * relative to the channel's scale, |mean| + standard deviation, for the mean, and to the
   * variance itself for the variances.
   */
  static final double MOMENTS_VS_ND4J_RELATIVE = 1e-12;

  /**
   * MomentsKernel against an exact two-pass reduction when the mean is 1e5 standard deviations
   * away from zero. A naive one-pass sum of squares in double loses about 1e-6 of the variance
   * here; the shifted kernel must stay many orders of magnitude below that.
   */
  static final double LARGE_MEAN_VARIANCE_RELATIVE = 1e-10;

  /** Merging the moments of two parts against the moments of the whole (both in double). */
  static final double MERGE_RELATIVE = 1e-12;

  /**
   * ModeDivergence (moments only) against the relative RMS of outputs materialized by ND4J:
   * the same quantity computed two ways in double.
   */
  static final double MODE_DIVERGENCE_RELATIVE = 1e-9;

  /** Floor for divergences that are zero in exact arithmetic. */
  static final double MODE_DIVERGENCE_ABSOLUTE = 1e-12;

  /**
   * Against TensorFlow's float32 results, printed with 8 decimals: TF's own float32 rounding
   * (a few ulps, about 2e-7 relative at magnitude 1, amplified by 1/sqrt(var + eps) for
   * normalized outputs) and the CSV's 5e-9 rounding of both inputs and outputs.
   */
  static final double TF_FLOAT32_ABSOLUTE = 2e-6;

  static final double TF_FLOAT32_RELATIVE = 2e-6;

  /** Against PyTorch's float32 outputs, stored exactly as float32: a few float32 ulps. */
  static final double PYTORCH_FLOAT32_ABSOLUTE = 1e-6;

  static final double PYTORCH_FLOAT32_RELATIVE = 1e-6;
}
