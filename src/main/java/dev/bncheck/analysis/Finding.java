package dev.bncheck.analysis;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * One problem found in one layer.
 *
 * @param code the stable finding code, e.g. {@code BN001}
 * @param layerIndex the layer's position in network order
 * @param message one line for the person fixing the model, with the numbers that prove it
 * @param fix what to change, for the model's framework when known
 * @param suppressed what keeps the finding from counting towards the verdict (a config ignore or
 *     the baseline) and why, or empty when it counts
 */
public record Finding(
    String code,
    Severity severity,
    int layerIndex,
    String layer,
    String message,
    List<Evidence> evidence,
    String fix,
    Optional<Suppressed> suppressed) {

  /**
   * What keeps a finding from counting, and why.
   *
   * @param reason shown with the finding in every report
   */
  public record Suppressed(By by, String reason) {

    public Suppressed {
      Objects.requireNonNull(by, "by");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** Where a suppression comes from; reports count suppressed findings by it. */
  public enum By {
    IGNORE("the config file's ignore list"),
    BASELINE("the baseline");

    private final String label;

    By(String label) {
      this.label = label;
    }

    /** For example {@code the baseline}, as in "6 errors suppressed by the baseline". */
    public String label() {
      return label;
    }
  }

  public Finding(String code, Severity severity, int layerIndex, String layer, String message, List<Evidence> evidence,
      String fix) {
    this(code, severity, layerIndex, layer, message, evidence, fix, Optional.empty());
  }

  /** This finding, kept in the report but not counted towards the verdict. */
  public Finding suppress(By by, String reason) {
    return new Finding(code, severity, layerIndex, layer, message, evidence, fix,
        Optional.of(new Suppressed(by, reason)));
  }

  public Finding {
    Objects.requireNonNull(suppressed, "suppressed");
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(layer, "layer");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(fix, "fix");
    evidence = List.copyOf(evidence);
  }

  /** The anchor of this code's entry in docs/findings.md. */
  public String docsLink() {
    return "docs/findings.md#" + code.toLowerCase(Locale.ROOT);
  }
}
