package dev.bncheck.analysis;

import java.util.Optional;
import java.util.Set;

/**
 * One finding code: what it detects and how. Each implementation lives in its own class and
 * declares what it is once ({@link CheckDeclaration}); the rest of the project reads that.
 */
public interface Check {

  /** What the check's class declares with {@link Declares}. */
  default CheckDeclaration declaration() {
    return CheckDeclaration.of(getClass());
  }

  /** The finding for this layer, if the check fires. */
  Optional<Finding> check(LayerContext context);

  /** The stable code, e.g. {@code BN001}. */
  default String code() {
    return declaration().code();
  }

  /** A few words naming what the check detects, e.g. {@code statistics never updated}. */
  default String title() {
    return declaration().title();
  }

  /** Whether the check needs calibration data for the layer. */
  default boolean needsCalibration() {
    return declaration().data() != CheckDeclaration.DataNeed.NONE;
  }

  /** Whether the check judges statistics estimated from the data: skipped on too few values. */
  default boolean estimatesStatistics() {
    return declaration().data() == CheckDeclaration.DataNeed.ESTIMATES || comparesTrainingMode();
  }

  /** Whether the check compares training mode with inference mode: skipped on batches of one. */
  default boolean comparesTrainingMode() {
    return declaration().data() == CheckDeclaration.DataNeed.MODE_COMPARISON;
  }

  /** Codes whose finding on the same layer already explains this one. */
  default Set<String> supersededBy() {
    return declaration().supersededBy();
  }
}
