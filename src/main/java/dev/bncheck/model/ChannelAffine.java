package dev.bncheck.model;

import java.util.Optional;

/**
 * A per-channel map {@code x = scale * y + shift}, by which a loader that captured what a layer
 * wrote (its output y) hands over the moments of what reached it (its input x): the mean maps as
 * the values do, the variance by {@code scale^2}. An inference-mode BN layer computes
 * {@code y = gamma (x - mean) / sqrt(var + eps) + beta} per channel, which this inverts where
 * every channel's gamma is far enough from 0 for y to keep x's spread.
 */
public record ChannelAffine(double[] scale, double[] shift) {

  /**
   * Smallest |gamma| relative to max(1, |beta|) for which an output keeps its input's spread: y
   * rounds to float32 near |beta|, about 6e-8 |beta|, and the spread of y is about |gamma| where the
   * moving statistics describe the data, so the variance derived from it is off by about
   * (6e-8 / 1e-3)^2 relative at this floor, far below what any finding resolves.
   */
  public static final double GAMMA_FLOOR = 1e-3;

  public ChannelAffine {
    if (scale.length != shift.length) {
      throw new IllegalArgumentException("scale and shift differ in length");
    }
    scale = scale.clone();
    shift = shift.clone();
  }

  /**
   * The map from an inference-mode layer's output back to its input, or empty where a channel's
   * parameters are not finite, its normalizing variance is not positive, or its gamma is below
   * {@link #GAMMA_FLOOR}: such an output does not tell its input's spread.
   */
  public static Optional<ChannelAffine> inputOf(BnLayer layer) {
    int channels = layer.channels();
    double[] scale = new double[channels];
    double[] shift = new double[channels];
    for (int c = 0; c < channels; c++) {
      double gamma = layer.gamma()[c];
      double beta = layer.beta()[c];
      double mean = layer.movingMean()[c];
      double deviation = Math.sqrt(layer.movingVariance()[c] + layer.epsilon());
      if (!Double.isFinite(gamma) || !Double.isFinite(beta) || !Double.isFinite(mean) || !(deviation > 0)
          || !Double.isFinite(deviation) || Math.abs(gamma) < GAMMA_FLOOR * Math.max(1, Math.abs(beta))) {
        return Optional.empty();
      }
      scale[c] = deviation / gamma;
      shift[c] = mean - beta * deviation / gamma;
    }
    return Optional.of(new ChannelAffine(scale, shift));
  }

  public int channels() {
    return scale.length;
  }
}
