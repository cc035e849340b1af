package dev.bncheck.engine;

import java.util.List;
import java.util.Optional;

/** What a run learned from calibration data: per layer, and about the model as a whole. */
@FunctionalInterface
public interface CalibrationData {

  /** No data at all. */
  CalibrationData NONE = layerIndex -> Optional.empty();

  Optional<LayerCalibration> layer(int layerIndex);

  /**
   * The layer's calibration when every BN layer runs in training mode (what the moving averages
   * were meant to track), when bncheck could run the model that way.
   */
  default Optional<LayerCalibration> trainingView(int layerIndex) {
    return Optional.empty();
  }

  /** Why a layer the run executes has no data: it could not be captured. */
  default Optional<String> notCaptured(int layerIndex) {
    return Optional.empty();
  }

  /** Batch-size-1 comparisons of the model's outputs, when bncheck ran the model. */
  default List<BatchSizeConsistency> batchSizeChecks() {
    return List.of();
  }
}
