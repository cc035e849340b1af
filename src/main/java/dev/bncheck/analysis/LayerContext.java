package dev.bncheck.analysis;

import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import java.util.Optional;

/** Everything a check may look at for one layer. */
public record LayerContext(
    BnModel model,
    int index,
    BnLayer layer,
    Optional<LayerCalibration> calibration,
    Optional<DivergenceMetrics> metrics,
    Thresholds thresholds) {

  /** The framework whose conventions apply: the declared momentum convention, else the source. */
  public Framework framework() {
    return Framework.of(layer.momentumConvention(), model.framework());
  }
}
