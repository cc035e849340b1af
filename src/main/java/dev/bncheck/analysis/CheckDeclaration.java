package dev.bncheck.analysis;

import java.util.Objects;
import java.util.Set;

/**
 * What a check is, declared once in its class: the stable code, the title the docs, JUnit, HTML
 * and JSON reports show, what data it needs, which findings on the same layer already explain it
 * (one cause, one finding), and, for a model-level check, which layer findings its finding
 * explains as consequences.
 *
 * @param explains codes whose findings, where this check fires, stay in the report as
 *     information: the consequences of this finding, not causes of their own
 */
public record CheckDeclaration(String code, String title, DataNeed data, Set<String> supersededBy,
    Set<String> explains) {

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
    explains = Set.copyOf(explains);
  }

  /** A check superseded by nothing. */
  public static CheckDeclaration of(String code, String title, DataNeed data) {
    return new CheckDeclaration(code, title, data, Set.of(), Set.of());
  }

  /** This declaration, skipped where one of {@code codes} fired on the same layer. */
  public CheckDeclaration supersededBy(String... codes) {
    return new CheckDeclaration(code, title, data, Set.of(codes), explains);
  }

  /** This declaration, its finding making those of {@code codes} its consequences. */
  public CheckDeclaration explains(String... codes) {
    return new CheckDeclaration(code, title, data, supersededBy, Set.of(codes));
  }
}
