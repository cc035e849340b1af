package dev.bncheck.analysis;

import java.util.Objects;

/**
 * A finding the team has decided not to fail on, with the reason: from the config file's ignore
 * list, or from a baseline of findings accepted earlier.
 *
 * @param code the finding code, or {@code *} for any
 * @param layer a glob over layer names ({@code *} within one path segment, {@code **} across)
 * @param reason why; required, and shown in every report
 */
public record Suppression(String code, String layer, String reason) {

  public Suppression {
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(layer, "layer");
    if (reason == null || reason.isBlank()) {
      throw new IllegalArgumentException("an ignore needs a reason");
    }
  }

  public boolean matches(Finding finding) {
    return (code.equals("*") || code.equals(finding.code())) && Glob.of(layer).matches(finding.layer());
  }
}
