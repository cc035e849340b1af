package dev.bncheck.analysis;

import java.util.Locale;

/**
 * Whether one check ran on one layer, and if not, why.
 *
 * @param reason why the check was skipped; empty unless skipped
 */
public record CheckOutcome(String code, Status status, String reason) {

  /** What happened to the check. */
  public enum Status {
    PASSED,
    FIRED,
    SKIPPED;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
