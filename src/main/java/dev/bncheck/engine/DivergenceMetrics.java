package dev.bncheck.engine;

import dev.bncheck.model.BnLayer;

/**
 * How far a layer's moving statistics are from its calibration data, per channel and for the
 * layer.
 *
 * @param populationMean mean of all calibration values per channel
 * @param populationVariance variance (divisor n) of all calibration values per channel
 * @param standardizedMeanShift {@code (moving_mean - population_mean) / sqrt(population_var + eps)}
 * @param varianceRatio {@code (moving_var + eps) / (population_var + eps)}
 * @param modeRelativeRms per channel, {@code ||y_train - y_inference|| / ||y_train - beta||}
 *     over all calibration values, where training mode normalizes each batch with its own
 *     statistics
 * @param worstMeanShift the channel with the largest absolute standardized mean shift
 * @param worstVarianceRatio the channel whose variance ratio is farthest from 1 (in log scale)
 * @param layerModeRelativeRms the same ratio of norms over all channels together
 */
public record DivergenceMetrics(
    double[] populationMean,
    double[] populationVariance,
    double[] standardizedMeanShift,
    double[] varianceRatio,
    double[] modeRelativeRms,
    ChannelExtreme worstMeanShift,
    ChannelExtreme worstVarianceRatio,
    double layerModeRelativeRms) {

  /** Computes every metric from the moments alone; see {@link ModeDivergence} for why that is exact. */
  public static DivergenceMetrics of(BnLayer layer, LayerCalibration calibration) {
    int channels = layer.channels();
    ChannelMoments population = calibration.population();
    double eps = layer.epsilon();
    double[] mean = new double[channels];
    double[] variance = new double[channels];
    double[] shift = new double[channels];
    double[] ratio = new double[channels];
    int worstShift = 0;
    int worstRatio = 0;
    for (int c = 0; c < channels; c++) {
      // A channel without a single finite value has no mean; its moments store 0 only so they merge.
      mean[c] = population.count()[c] == 0 ? Double.NaN : population.mean()[c];
      variance[c] = population.biasedVariance(c);
      shift[c] = (layer.movingMean()[c] - mean[c]) / Math.sqrt(variance[c] + eps);
      ratio[c] = (layer.movingVariance()[c] + eps) / (variance[c] + eps);
      if (worse(Math.abs(shift[c]), Math.abs(shift[worstShift]))) {
        worstShift = c;
      }
      if (worse(Math.abs(Math.log(ratio[c])), Math.abs(Math.log(ratio[worstRatio])))) {
        worstRatio = c;
      }
    }
    ModeDivergence modes = ModeDivergence.of(layer, calibration.batches());
    return new DivergenceMetrics(
        mean,
        variance,
        shift,
        ratio,
        modes.perChannel(),
        new ChannelExtreme(worstShift, shift[worstShift]),
        new ChannelExtreme(worstRatio, ratio[worstRatio]),
        modes.layer());
  }

  /** NaN counts as worst, so that a broken channel is the one reported. */
  private static boolean worse(double candidate, double current) {
    return Double.isNaN(candidate) ? !Double.isNaN(current) : candidate > current;
  }
}
