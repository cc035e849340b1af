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
   * reduce in double, by different algorithms, so they agree to a few ulps (measured: 4e-15).
   * Applied relative to the channel's scale, |mean| + standard deviation, for the mean, and to
   * the variance itself for the variances.
   */
  static final double MOMENTS_VS_ND4J_RELATIVE = 1e-12;

  /**
   * MomentsKernel against a two-pass reduction in double when the mean is 1e5 standard
   * deviations or more away from zero. A naive one-pass sum of squares in double loses about 1e-4 of the variance
   * here; the shifted kernel must stay many orders of magnitude below that (measured: 8e-15).
   */
  static final double LARGE_MEAN_VARIANCE_RELATIVE = 1e-10;

  /** Merging the moments of two parts against the moments of the whole (measured: 7e-15). */
  static final double MERGE_RELATIVE = 1e-12;

  /**
   * ModeDivergence (moments only) against the relative RMS of outputs materialized by ND4J:
   * the same quantity computed two ways in double (measured: 1e-13).
   */
  static final double MODE_DIVERGENCE_RELATIVE = 1e-10;

  /**
   * Floor for divergences that are zero in exact arithmetic. When the moving statistics are
   * ND4J's view of a batch's own statistics they differ from the kernel's by ulps, and the mean
   * term is amplified by |mean| / std (1e3 for the narrowest test channel): measured 2e-13.
   */
  static final double MODE_DIVERGENCE_ABSOLUTE = 1e-10;

  /**
   * Against TensorFlow's float32 results, printed with 8 decimals: TF's own float32 rounding
   * (a few ulps, about 2e-7 relative at magnitude 1, amplified by 1/sqrt(var + eps) for
   * normalized outputs) and the CSV's 5e-9 rounding of both inputs and outputs. Measured: 4e-7
   * on FusedBatchNormV3's training-mode y, 8e-8 on its batch mean and variance.
   */
  static final double TF_FLOAT32_ABSOLUTE = 2e-6;

  static final double TF_FLOAT32_RELATIVE = 2e-6;

  /**
   * Against PyTorch's float32 outputs, stored exactly as float32: a few float32 ulps of values
   * up to about 3 (measured: 1.7e-7).
   */
  static final double PYTORCH_FLOAT32_ABSOLUTE = 1e-6;

  static final double PYTORCH_FLOAT32_RELATIVE = 1e-6;
}
