package dev.bncheck.analysis;

import java.util.Optional;
import java.util.Set;

/** One finding code: what it detects and how. Each implementation lives in its own class. */
public interface Check {

  /** The stable code, e.g. {@code BN001}. */
  String code();

  /** A few words naming what the check detects, e.g. {@code statistics never updated}. */
  String title();

  /** Whether the check needs calibration data for the layer. */
  boolean needsCalibration();

  /**
   * Whether the check judges statistics estimated from the data (a mean, a variance), which a
   * handful of values cannot support: with too few values per channel it is skipped.
   */
  default boolean estimatesStatistics() {
    return false;
  }

  /**
   * Whether the check compares training mode, which normalizes each batch with the batch's own
   * statistics, with inference mode: batches of one sample give it nothing to compare.
   */
  default boolean comparesTrainingMode() {
    return false;
  }

  /**
   * Codes whose finding on the same layer already explains this one; when one of them fired,
   * this check is skipped so that one cause gives one finding.
   */
  default Set<String> supersededBy() {
    return Set.of();
  }

  /** The finding for this layer, if the check fires. */
  Optional<Finding> check(LayerContext context);
}
