package dev.bncheck.engine;

import dev.bncheck.model.BnLayer;

/**
 * A layer's output in either mode, as the per-channel affine map it is: what TensorFlow's
 * FusedBatchNormV3 and PyTorch's BatchNorm compute. Used to check bncheck's reimplementation
 * against the framework's own output of the same node, value by value.
 */
public final class BatchNormOutputs {

  private BatchNormOutputs() {}

  /** Per channel, {@code y = x * scale[c] + shift[c]}: both modes are affine in x. */
  public record Affine(double[] scale, double[] shift) {
    public double apply(int channel, double x) {
      return x * scale[channel] + shift[channel];
    }
  }

  /** {@code gamma * (x - moving_mean) / sqrt(moving_var + eps) + beta}. */
  public static Affine inferenceAffine(BnLayer layer) {
    return affine(layer, layer.movingMean(), layer.movingVariance());
  }

  /**
   * {@code gamma * (x - mean_b) / sqrt(var_b + eps) + beta}, with the batch's own mean and its
   * biased variance: frameworks normalize with the biased one and feed the unbiased one into
   * the moving average.
   */
  public static Affine trainingAffine(BnLayer layer, ChannelMoments m) {
    double[] variance = new double[m.channels()];
    for (int c = 0; c < variance.length; c++) {
      variance[c] = m.biasedVariance(c);
    }
    return affine(layer, m.mean(), variance);
  }

  private static Affine affine(BnLayer layer, double[] mean, double[] variance) {
    int channels = mean.length;
    double[] scale = new double[channels];
    double[] shift = new double[channels];
    for (int c = 0; c < channels; c++) {
      scale[c] = layer.gamma()[c] / Math.sqrt(variance[c] + layer.epsilon());
      shift[c] = layer.beta()[c] - mean[c] * scale[c];
    }
    return new Affine(scale, shift);
  }
}
