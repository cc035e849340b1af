package dev.bncheck.analysis;

import java.util.List;

/**
 * Findings accepted earlier, the way teams adopt a linter on an existing codebase: a later run
 * fails only on findings that are new, or worse than they were.
 *
 * @param entries the accepted findings
 */
public record Baseline(List<Entry> entries) {

  /** One accepted finding: its code, layer and severity. */
  public record Entry(String code, String layer, Severity severity) {}

  public Baseline {
    entries = List.copyOf(entries);
  }

  public static Baseline of(Report report) {
    return new Baseline(report.findings().stream().map(f -> new Entry(f.code(), f.layer(), f.severity())).toList());
  }

  /** The report with every finding the baseline accepts (same code and layer, no worse) suppressed. */
  public Report apply(Report report, String reason) {
    List<Finding> findings = report.findings().stream()
        .map(f -> f.suppressed().isEmpty() && accepts(f) ? f.suppress(Finding.By.BASELINE, reason) : f)
        .toList();
    return new Report(report.run(), report.model(), report.thresholds(), report.layers(), report.batchSizeChecks(),
        findings);
  }

  private boolean accepts(Finding f) {
    return entries.stream().anyMatch(e -> e.code().equals(f.code()) && e.layer().equals(f.layer())
        && e.severity().atLeast(f.severity()));
  }
}
