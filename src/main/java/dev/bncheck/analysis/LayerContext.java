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
 * @param trainingViewCalibration the calibration of the training view the layer is judged on
 *     (it runs on the first few samples only); empty when not captured or not judged on
 * @param statisticalTests the one-sided channel tests the whole model's data checks make, among
 *     which the family-wise false-alarm rate is divided
 * @param upstreamQuiet whether no BN layer before this one has heavy-tailed data or an error of its
 *     own: then what reaches this layer at inference should be what reached it in training
 *     ({@link UpstreamShift})
 */
public record LayerContext(
    BnModel model,
    int index,
    BnLayer layer,
    Optional<LayerCalibration> calibration,
    Optional<DivergenceMetrics> metrics,
    Optional<DivergenceMetrics> trainingViewMetrics,
    Thresholds thresholds,
    Optional<LayerCalibration> trainingViewCalibration,
    long statisticalTests,
    boolean upstreamQuiet) {

  /** A layer whose upstream layers are not looked at. */
  public LayerContext(BnModel model, int index, BnLayer layer, Optional<LayerCalibration> calibration,
      Optional<DivergenceMetrics> metrics, Optional<DivergenceMetrics> trainingViewMetrics, Thresholds thresholds,
      Optional<LayerCalibration> trainingViewCalibration, long statisticalTests) {
    this(model, index, layer, calibration, metrics, trainingViewMetrics, thresholds, trainingViewCalibration,
        statisticalTests, false);
  }

  /** A layer judged on its own: its channels' tests are all the tests. */
  public LayerContext(BnModel model, int index, BnLayer layer, Optional<LayerCalibration> calibration,
      Optional<DivergenceMetrics> metrics, Thresholds thresholds) {
    this(model, index, layer, calibration, metrics, Optional.empty(), thresholds, Optional.empty(), testsOf(layer));
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

  /** The samples the training view ran on; 0 without one. */
  public long trainingViewSamples() {
    return trainingViewCalibration.map(LayerCalibration::samples).orElse(0L);
  }

  /** Likewise for the estimates {@link #statisticsMetrics()} come from. */
  public Optional<SamplingError> statisticsSamplingError() {
    return judgedOnTrainingView() && trainingViewSamples() >= 2
        ? Optional.of(SamplingError.of(trainingViewSamples(), statisticalTests).withMovingAverageOf(layer))
        : samplingError();
  }

  /** The metrics the moving averages are judged on: the training view where there is one. */
  public Optional<DivergenceMetrics> statisticsMetrics() {
    return judgedOnTrainingView() ? trainingViewMetrics : metrics;
  }

  /** The calibration {@link #statisticsMetrics()} come from. */
  public Optional<LayerCalibration> statisticsCalibration() {
    return judgedOnTrainingView() ? trainingViewCalibration : calibration;
  }

  /**
   * Whether the moving statistics are judged on the training view: what reached the layer as in
   * training, so that upstream layers that normalize otherwise at inference are not blamed on it.
   */
  public boolean judgedOnTrainingView() {
    return trainingViewMetrics.isPresent() && trainingViewCalibration.isPresent();
  }

  /** The framework whose conventions apply: the declared momentum convention, else the source. */
  public Framework framework() {
    return Framework.of(layer.momentumConvention(), model.framework());
  }
}
