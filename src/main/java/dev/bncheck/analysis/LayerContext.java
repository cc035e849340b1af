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
 */
public record LayerContext(
    BnModel model,
    int index,
    BnLayer layer,
    Optional<LayerCalibration> calibration,
    Optional<DivergenceMetrics> metrics,
    Optional<DivergenceMetrics> trainingViewMetrics,
    Thresholds thresholds) {

  public LayerContext(BnModel model, int index, BnLayer layer, Optional<LayerCalibration> calibration,
      Optional<DivergenceMetrics> metrics, Thresholds thresholds) {
    this(model, index, layer, calibration, metrics, Optional.empty(), thresholds);
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
