package dev.bncheck.analysis;

import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.VectorSummary;
import dev.bncheck.model.BnLayer;
import java.util.List;
import java.util.Optional;

/**
 * Everything the report says about one layer.
 *
 * @param trainingViewMetrics the divergence when every BN layer runs in training mode, if captured
 * @param status the most severe finding on the layer, or empty when it is clean
 */
public record LayerResult(
    int index,
    BnLayer layer,
    VectorSummary gamma,
    VectorSummary beta,
    VectorSummary movingMean,
    VectorSummary movingVariance,
    Optional<CalibrationSummary> calibration,
    Optional<DivergenceMetrics> metrics,
    Optional<DivergenceMetrics> trainingViewMetrics,
    List<CheckOutcome> checks,
    Optional<Severity> status) {

  public LayerResult {
    checks = List.copyOf(checks);
  }
}
