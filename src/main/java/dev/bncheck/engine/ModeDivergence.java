package dev.bncheck.engine;

import dev.bncheck.model.BnLayer;
import java.util.List;

/**
 * The relative RMS difference between a layer's training-mode and inference-mode outputs on the
 * calibration data, derived from per-batch moments without materializing either output.
 *
 * <p>Within one batch both outputs are affine in x for each channel, so their difference is too:
 * with batch mean m_b, biased batch variance v_b, s_b = sqrt(v_b + eps), s_m = sqrt(moving_var +
 * eps) and x = m_b + d, the difference is gamma * (a * d + (moving_mean - m_b) / s_m) with a = 1/s_b
 * - 1/s_m. Deviations d sum to zero over the batch, so the sum of squares is n * gamma^2 * (a^2 *
 * v_b + ((moving_mean - m_b) / s_m)^2). The reference norm, that of y_train - beta, is n * gamma^2
 * * v_b / (v_b + eps). A test keeps this equal to the materialized computation.
 */
public record ModeDivergence(double[] perChannel, double layer) {

  public static ModeDivergence of(BnLayer layer, List<ChannelMoments> batches) {
    return of(layer, batches, layer.movingMean(), layer.movingVariance(), null);
  }

  /**
   * The divergence over the channels {@code counted} marks only, in {@link #layer()}; the per-channel
   * values are all there.
   */
  public static ModeDivergence of(BnLayer layer, List<ChannelMoments> batches, boolean[] counted) {
    return of(layer, batches, layer.movingMean(), layer.movingVariance(), counted);
  }

  /**
   * The divergence a perfectly calibrated layer would show on these batches: inference mode
   * normalizing with the population's own statistics, so that only the batches' departures from
   * the population remain. Small batches, or batches that are not samples of the whole (sorted by
   * class), raise it; a verdict on the moving statistics looks at what exceeds it.
   */
  public static ModeDivergence samplingFloor(BnLayer layer, List<ChannelMoments> batches, ChannelMoments population) {
    return samplingFloor(layer, batches, population, null);
  }

  /** {@link #samplingFloor} over the channels {@code counted} marks only, in {@link #layer()}. */
  public static ModeDivergence samplingFloor(BnLayer layer, List<ChannelMoments> batches, ChannelMoments population,
      boolean[] counted) {
    int channels = layer.channels();
    double[] mean = new double[channels];
    double[] variance = new double[channels];
    for (int c = 0; c < channels; c++) {
      mean[c] = population.count()[c] == 0 ? 0.0 : population.mean()[c];
      variance[c] = population.count()[c] == 0 ? 1.0 : population.biasedVariance(c);
    }
    return of(layer, batches, mean, variance, counted);
  }

  /** @param counted the channels the layer's value sums over; null for all */
  private static ModeDivergence of(BnLayer layer, List<ChannelMoments> batches, double[] inferenceMean,
      double[] inferenceVariance, boolean[] counted) {
    int channels = layer.channels();
    double eps = layer.epsilon();
    double[] diff = new double[channels];
    double[] reference = new double[channels];
    for (ChannelMoments batch : batches) {
      for (int c = 0; c < channels; c++) {
        long n = batch.count()[c];
        if (n == 0) {
          continue;
        }
        double g2 = layer.gamma()[c] * layer.gamma()[c];
        double vb = batch.biasedVariance(c);
        double sb = Math.sqrt(vb + eps);
        double sm = Math.sqrt(inferenceVariance[c] + eps);
        double a = 1.0 / sb - 1.0 / sm;
        double offset = (inferenceMean[c] - batch.mean()[c]) / sm;
        diff[c] += n * g2 * (a * a * vb + offset * offset);
        reference[c] += n * g2 * vb / (vb + eps);
      }
    }
    double[] perChannel = new double[channels];
    double totalDiff = 0;
    double totalReference = 0;
    for (int c = 0; c < channels; c++) {
      perChannel[c] = ratio(diff[c], reference[c]);
      if (counted == null || counted[c]) {
        totalDiff += diff[c];
        totalReference += reference[c];
      }
    }
    return new ModeDivergence(perChannel, ratio(totalDiff, totalReference));
  }

  /** sqrt(diff / reference); 0 when both vanish (gamma 0, or constant input with matching statistics). */
  private static double ratio(double diff, double reference) {
    if (reference == 0) {
      return diff == 0 ? 0.0 : Double.POSITIVE_INFINITY;
    }
    return Math.sqrt(diff / reference);
  }
}
