package dev.bncheck.analysis;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One problem found in one layer.
 *
 * @param code the stable finding code, e.g. {@code BN001}
 * @param layerIndex the layer's position in network order
 * @param message one line for the person fixing the model, with the numbers that prove it
 * @param fix what to change, for the model's framework when known
 */
public record Finding(
    String code,
    Severity severity,
    int layerIndex,
    String layer,
    String message,
    List<Evidence> evidence,
    String fix) {

  public Finding {
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
