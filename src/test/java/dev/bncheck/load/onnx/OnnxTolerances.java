package dev.bncheck.load.onnx;

/**
 * Every numeric tolerance of the ONNX tests, with the reason for its size. Comparisons use
 * numpy's {@code allclose} rule: {@code |actual - expected| <= absolute + relative * |expected|}.
 */
final class OnnxTolerances {

  private OnnxTolerances() {}

  /**
   * bncheck's inference-mode BN in double against PyTorch's float32 output: PyTorch rounds
   * each step to float32 (a few ulps, 2e-7 relative at magnitude 1, amplified by
   * 1/sqrt(var + eps)). Measured: 2e-7 on the backend-test fixtures.
   */
  static final double PYTORCH_OUTPUT_ABSOLUTE = 1e-6;
  static final double PYTORCH_OUTPUT_RELATIVE = 1e-5;

  /**
   * Float32 values stored in a model against the same values PyTorch wrote to references.json
   * (float32 widened to double on both sides, then printed by Python with 17 digits): exact.
   */
  static final double STORED_VALUES = 0;

  /**
   * Per-channel mean and variance of what reaches a layer, bncheck (ONNX Runtime's float32
   * activations reduced in double) against PyTorch (its float32 activations reduced in double):
   * the two runtimes' float32 convolutions differ by a few ulps per value, which the means of
   * 4096 values per channel average. Measured: 3e-7 relative.
   */
  static final double ACTIVATION_MOMENTS_ABSOLUTE = 1e-6;
  static final double ACTIVATION_MOMENTS_RELATIVE = 1e-5;

  /**
   * The largest change of a logit between a sample alone and in a batch, ONNX Runtime against
   * PyTorch on the same samples: a difference of two float32 outputs of magnitude 10, each a
   * few ulps off the other runtime's. Measured: 1e-6.
   */
  static final double BATCH_DEPENDENCE_ABSOLUTE = 1e-4;
}
