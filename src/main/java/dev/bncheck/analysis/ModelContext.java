package dev.bncheck.analysis;

import dev.bncheck.engine.CalibrationData;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.model.BnModel;
import java.util.List;
import java.util.Optional;

/**
 * What a model-level check sees: the model, its calibration, each layer's divergence and the
 * findings the layer checks made.
 *
 * @param metrics per layer in network order, its divergence from the data, if it had data
 * @param layerFindings the layer checks' findings, unsuppressed and unsorted
 * @param index the position model-level findings take, after every layer and unresolved layer
 * @param tests the number of statistical tests the verdict corrects for
 */
public record ModelContext(BnModel model, CalibrationData calibration, List<Optional<DivergenceMetrics>> metrics,
    List<Finding> layerFindings, RunInfo run, Thresholds thresholds, Analyzer.DataAvailability data, int index,
    long tests) {

  public ModelContext {
    metrics = List.copyOf(metrics);
    layerFindings = List.copyOf(layerFindings);
  }
}
