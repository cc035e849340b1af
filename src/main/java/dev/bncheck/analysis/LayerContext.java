package dev.bncheck.analysis;

import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import java.util.Optional;

/**
 * Everything a check may look at for one layer.
 *
 * @param metrics the divergence on the inputs the layer sees at inference
 * @param trainingViewMetrics the divergence on the inputs it sees when every BN layer runs in
 *     training mode, as while the moving averages were updated; empty when not captured
 * @param trainingViewSamples the samples the training view ran on (it runs on the first few
 *     only); 0 without a training view
 * @param statisticalTests the one-sided channel tests the whole model's data checks make, among
 *     which the family-wise false-alarm rate is divided
 */
public record LayerContext(
    BnModel model,
    int index,
    BnLayer layer,
    Optional<LayerCalibration> calibration,
    Optional<DivergenceMetrics> metrics,
    Optional<DivergenceMetrics> trainingViewMetrics,
    Thresholds thresholds,
    long trainingViewSamples,
    long statisticalTests) {

  /** A layer judged on its own: its channels' tests are all the tests. */
  public LayerContext(BnModel model, int index, BnLayer layer, Optional<LayerCalibration> calibration,
      Optional<DivergenceMetrics> metrics, Thresholds thresholds) {
    this(model, index, layer, calibration, metrics, Optional.empty(), thresholds, 0, testsOf(layer));
  }

  /** The tests one layer's data checks make: a mean and a variance per channel. */
  static long testsOf(BnLayer layer) {
    return 2L * layer.channels();
  }

  /**
   * How far chance may move this layer's estimates and its moving statistics from the population;
   * empty without calibration data.
   */
  public Optional<SamplingError> samplingError() {
    return calibration.filter(c -> c.samples() >= 2)
        .map(c -> SamplingError.of(c.samples(), statisticalTests).withMovingAverageOf(layer));
  }

  /** Likewise for the estimates {@link #statisticsMetrics()} come from. */
  public Optional<SamplingError> statisticsSamplingError() {
    return trainingViewMetrics.isPresent() && trainingViewSamples >= 2
        ? Optional.of(SamplingError.of(trainingViewSamples, statisticalTests).withMovingAverageOf(layer))
        : samplingError();
  }

  /** The metrics the moving averages are judged on: the training view where there is one. */
  public Optional<DivergenceMetrics> statisticsMetrics() {
    return trainingViewMetrics.isPresent() ? trainingViewMetrics : metrics;
  }

  /** The framework whose conventions apply: the declared momentum convention, else the source. */
  public Framework framework() {
    return Framework.of(layer.momentumConvention(), model.framework());
  }
}
