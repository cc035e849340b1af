package dev.bncheck.analysis;

import dev.bncheck.engine.BatchSizeConsistency;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.Numbers;
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

  /**
   * The first layer whose self-check failed, as a message: bncheck's own output of the layer
   * differs from the runtime's beyond the round-off of the runtime's format, which is a bug in
   * bncheck, whatever the findings say.
   */
  public java.util.Optional<String> selfCheckFailure() {
    for (LayerResult layer : layers) {
      var check = layer.calibration().flatMap(CalibrationSummary::selfCheck);
      if (check.isPresent() && !check.get().passed()) {
        var c = check.get();
        return java.util.Optional.of("layer " + layer.layer().name() + ": bncheck's "
            + (c.trainingMode() ? "training" : "inference") + "-mode output differs from " + run.runtime() + "'s by "
            + Numbers.brief(c.maxAbsDifference()) + " (relative " + Numbers.brief(c.relativeDifference())
            + "), beyond " + c.precision().label() + " round-off; please report it");
      }
    }
    return java.util.Optional.empty();
  }

  /**
   * What the finding is about. Findings are indexed in one sequence: the analysed layers, then the
   * unresolved ones, then the model.
   */
  public Subject subjectOf(Finding finding) {
    int index = finding.layerIndex();
    return index < layers.size() ? Subject.LAYER
        : index < layers.size() + model.unresolved().size() ? Subject.UNRESOLVED_LAYER : Subject.MODEL;
  }

  /**
   * The calibration of the first layer with data, which sees every sample fed to the model: the
   * report shows it as the data the verdicts rest on.
   */
  public java.util.Optional<CalibrationSummary> firstData() {
    return layers.stream().flatMap(l -> l.calibration().stream()).findFirst();
  }

  /**
   * Why the data checks ran on no layer, when data was given but was too little for every layer
   * that received it; empty when they ran somewhere or there was no data. A pass then rests on
   * the static checks alone, which a gate must be told.
   */
  public java.util.Optional<String> dataChecksSkipped() {
    long withData = layers.stream().filter(l -> l.calibration().isPresent()).count();
    List<String> reasons = layers.stream().flatMap(l -> l.checks().stream())
        .filter(c -> c.code().equals("BN003") && c.status() == CheckOutcome.Status.SKIPPED
            && c.reason().startsWith(Analyzer.TOO_LITTLE_DATA))
        .map(CheckOutcome::reason).toList();
    return withData > 0 && reasons.size() == withData ? java.util.Optional.of(reasons.get(0))
        : java.util.Optional.empty();
  }

  public long count(Severity severity) {
    return findings.stream().filter(f -> f.severity() == severity).count();
  }

  /**
   * Whether any finding that is not suppressed is at or above the run's {@code --fail-on} level,
   * or the run requires BN layers and the model has none.
   */
  public boolean failed() {
    return failingCount() > 0 || lacksRequiredBn();
  }

  /** Whether the model has no BN layer, resolved or not. */
  public boolean noBnLayers() {
    return layers.isEmpty() && model.unresolved().isEmpty();
  }

  /** Whether the run requires BN layers ({@code --require-bn}) and the model has none. */
  public boolean lacksRequiredBn() {
    return run.requireBn() && noBnLayers();
  }

  public long failingCount() {
    return findings.stream().filter(f -> f.suppressed().isEmpty() && run.failOn().fails(f.severity())).count();
  }

  public long suppressedCount() {
    return findings.stream().filter(f -> f.suppressed().isPresent()).count();
  }
}
