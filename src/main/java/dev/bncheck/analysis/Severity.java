package dev.bncheck.analysis;

import java.util.Locale;

/** How much a finding matters; ordered from least to most severe. */
public enum Severity {
  INFO,
  WARNING,
  ERROR;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public boolean atLeast(Severity other) {
    return compareTo(other) >= 0;
  }
}
