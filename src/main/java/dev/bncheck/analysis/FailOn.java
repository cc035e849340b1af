package dev.bncheck.analysis;

import java.util.Locale;

/** The least severe finding that makes a run fail, or never. */
public enum FailOn {
  INFO(Severity.INFO),
  WARNING(Severity.WARNING),
  ERROR(Severity.ERROR),
  NEVER(null);

  private final Severity threshold;

  FailOn(Severity threshold) {
    this.threshold = threshold;
  }

  public boolean fails(Severity severity) {
    return threshold != null && severity.atLeast(threshold);
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
