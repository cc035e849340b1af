package dev.bncheck.analysis;

import java.util.Objects;
import java.util.Set;

/**
 * What a check is, declared once in its class: the stable code, the title the docs, JUnit, HTML
 * and JSON reports show, what data it needs, and which findings on the same layer already explain
 * it (one cause, one finding).
 */
public record CheckDeclaration(String code, String title, DataNeed data, Set<String> supersededBy) {

  /** What a check needs of the calibration data. */
  public enum DataNeed {
    /** Nothing: the model's parameters and graph suffice. */
    NONE,
    /** The data itself (its values), not statistics estimated from it. */
    VALUES,
    /**
     * Statistics estimated from the data (a mean, a variance), which a handful of values cannot
     * support: with too few values per channel the check is skipped.
     */
    ESTIMATES,
    /**
     * Estimates, and training mode, which normalizes each batch with the batch's own statistics,
     * against inference mode: batches of one sample give it nothing to compare.
     */
    MODE_COMPARISON
  }

  public CheckDeclaration {
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(title, "title");
    Objects.requireNonNull(data, "data");
    supersededBy = Set.copyOf(supersededBy);
  }

  /** A check superseded by nothing. */
  public static CheckDeclaration of(String code, String title, DataNeed data) {
    return new CheckDeclaration(code, title, data, Set.of());
  }

  /** This declaration, skipped where one of {@code codes} fired on the same layer. */
  public CheckDeclaration supersededBy(String... codes) {
    return new CheckDeclaration(code, title, data, Set.of(codes));
  }
}
