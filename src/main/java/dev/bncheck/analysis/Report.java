package dev.bncheck.analysis;

import dev.bncheck.engine.BatchSizeConsistency;
import dev.bncheck.model.BnModel;
import java.util.List;

/** The outcome of one run, which every report format writes in its own way. */
public record Report(
    RunInfo run,
    BnModel model,
    Thresholds thresholds,
    List<LayerResult> layers,
    List<BatchSizeConsistency> batchSizeChecks,
    List<Finding> findings) {

  public Report {
    layers = List.copyOf(layers);
    batchSizeChecks = List.copyOf(batchSizeChecks);
    findings = List.copyOf(findings);
  }

  public long count(Severity severity) {
    return findings.stream().filter(f -> f.severity() == severity).count();
  }

  /** Whether any finding that is not suppressed is at or above the run's {@code --fail-on} level. */
  public boolean failed() {
    return failingCount() > 0;
  }

  public long failingCount() {
    return findings.stream().filter(f -> f.suppressed().isEmpty() && run.failOn().fails(f.severity())).count();
  }

  public long suppressedCount() {
    return findings.stream().filter(f -> f.suppressed().isPresent()).count();
  }
}
