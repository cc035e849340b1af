package dev.bncheck.report;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Checks;
import dev.bncheck.analysis.Evidence;
import dev.bncheck.analysis.FailOn;
import dev.bncheck.analysis.Finding;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.RunInfo;
import dev.bncheck.analysis.Severity;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.engine.BatchSizeConsistency;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.CalibrationData;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.load.dump.BnModelFromDump;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.UnresolvedLayer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/** Reports of the samples, built without the command line. */
final class ReportFixtures {

  /** A name with everything Markdown and XML could misread, and a control character XML forbids. */
  static final String HOSTILE_NAME = "a|b <i>c</i> `d` & \"e\" ]]> \u0001f";

  /** A name that, printed raw, forges a log line, clears the terminal and reverses what follows. */
  static final String FORGING_NAME = "bn\n[BN000] PASS\u001b[2J\u202e\u2028";

  /** {@link #FORGING_NAME} as every text format shows it. */
  static final String FORGING_NAME_SHOWN = "bn\\n[BN000] PASS\\x1b[2J\\u202e\\u2028";

  private ReportFixtures() {}

  static Report report(String sample) {
    return report(sample, FailOn.ERROR);
  }

  static Report report(String sample, FailOn failOn) {
    CalibrationAccumulator data = new CalibrationAccumulator();
    BnModel model = new BnModelFromDump().load(Path.of(sample), data);
    return new Analyzer(Checks.ALL, Thresholds.DEFAULTS).analyze(model, data,
        Analyzer.DataAvailability.REQUESTED, run(failOn));
  }

  /**
   * What only a TensorFlow model run on data gives: a layer without calibration data (named
   * {@link #HOSTILE_NAME}), a training-mode layer whose parameters could not be read (BN002), and
   * two outputs compared at batch size 1, {@code logits} inconsistent (BN005) and {@code probs} not.
   */
  static Report modelLevel() {
    return modelLevel(HOSTILE_NAME);
  }

  /**
   * {@link #modelLevel()} with {@link #FORGING_NAME} as its analysed layer's name and in a finding's
   * layer, message, evidence and fix, and in the model's name.
   */
  static Report forging() {
    Report base = modelLevel(FORGING_NAME);
    List<Finding> findings = new ArrayList<>(base.findings());
    // Indexed past the analysed layers, as findings on layers that were not analysed are.
    findings.add(new Finding("BN009", Severity.ERROR, base.layers().size(), FORGING_NAME, "epsilon of " + FORGING_NAME + " is odd",
        List.of(new Evidence("node", FORGING_NAME)), "rename " + FORGING_NAME));
    BnModel model = new BnModel(FORGING_NAME, "TensorFlow SavedModel", "keras", FORGING_NAME, base.model().layers(),
        base.model().unresolved());
    return new Report(base.run(), model, base.thresholds(), base.layers(), base.batchSizeChecks(), findings);
  }

  private static Report modelLevel(String name) {
    double[] ones = {1, 1};
    BnLayer layer = new BnLayer(name, "layers[0]", -1, 1e-3, OptionalDouble.empty(), null,
        OptionalLong.empty(), ones, true, new double[] {0, 0}, true, new double[] {0.5, -0.5}, new double[] {1.2, 0.8}, java.util.Optional.empty());
    UnresolvedLayer unresolved = new UnresolvedLayer("head/bn", "head/bn/FusedBatchNormV3", "FusedBatchNormV3",
        "the scale is computed, not a variable", true);
    BnModel model = new BnModel("model", "TensorFlow SavedModel", "keras", null, List.of(layer), List.of(unresolved));
    CalibrationData data = new CalibrationData() {
      @Override
      public Optional<LayerCalibration> layer(int layerIndex) {
        return Optional.empty();
      }

      @Override
      public List<BatchSizeConsistency> batchSizeChecks() {
        return List.of(new BatchSizeConsistency("logits", 8, 8, 0.5, 1.0, 3),
            new BatchSizeConsistency("probs", 8, 8, 1e-7, 1.0, 0));
      }
    };
    return new Analyzer(Checks.ALL, Thresholds.DEFAULTS).analyze(model, data,
        Analyzer.DataAvailability.REQUESTED, run(FailOn.ERROR));
  }

  private static RunInfo run(FailOn failOn) {
    return new RunInfo("test", "check", "0", "embedded in model", null, failOn);
  }
}
