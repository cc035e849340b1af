package dev.bncheck.engine;

import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Tensor;

/**
 * A layer's output on one batch, in either mode, materialized in double: what TensorFlow's
 * FusedBatchNormV3 and PyTorch's BatchNorm compute. Used to check bncheck's reimplementation
 * against the framework's own output of the same node.
 */
public final class BatchNormOutputs {

  private BatchNormOutputs() {}

  /** Per channel, {@code y = x * scale[c] + shift[c]}: both modes are affine in x. */
  public record Affine(double[] scale, double[] shift) {}

  /** {@code gamma * (x - moving_mean) / sqrt(moving_var + eps) + beta}. */
  public static double[] inferenceMode(BnLayer layer, Tensor x, int channelAxis) {
    return apply(inferenceAffine(layer), x, channelAxis);
  }

  /**
   * {@code gamma * (x - mean_b) / sqrt(var_b + eps) + beta}, with the batch's own mean and its
   * biased variance: frameworks normalize with the biased one and feed the unbiased one into
   * the moving average.
   */
  public static double[] trainingMode(BnLayer layer, Tensor x, int channelAxis) {
    return apply(trainingAffine(layer, x, channelAxis), x, channelAxis);
  }

  public static Affine inferenceAffine(BnLayer layer) {
    return affine(layer, layer.movingMean(), layer.movingVariance());
  }

  public static Affine trainingAffine(BnLayer layer, Tensor x, int channelAxis) {
    ChannelMoments m = MomentsKernel.compute(x, channelAxis);
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

  private static double[] apply(Affine affine, Tensor x, int channelAxis) {
    int[] shape = x.shape();
    int channels = shape[channelAxis];
    int inner = 1;
    for (int i = channelAxis + 1; i < shape.length; i++) {
      inner *= shape[i];
    }
    int n = x.size();
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      int c = (i / inner) % channels;
      y[i] = x.get(i) * affine.scale()[c] + affine.shift()[c];
    }
    return y;
  }
}
