package dev.bncheck.analysis;

import java.util.Objects;
import java.util.Set;

/**
 * What a check is, declared once on its class ({@link Declares}): the stable code, the title the docs, JUnit, HTML
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

  private static final ClassValue<CheckDeclaration> DECLARED = new ClassValue<>() {
    @Override
    protected CheckDeclaration computeValue(Class<?> check) {
      Declares d = check.getAnnotation(Declares.class);
      if (d == null) {
        throw new IllegalStateException(check.getName() + " declares nothing: annotate it with @Declares");
      }
      return new CheckDeclaration(d.code(), d.title(), d.data(), Set.of(d.supersededBy()), Set.of(d.explains()));
    }
  };

  /** What the class of a check declares with {@link Declares}, read once per class. */
  public static CheckDeclaration of(Class<?> check) {
    return DECLARED.get(check);
  }
}
