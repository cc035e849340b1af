package dev.bncheck.report;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Checks;
import dev.bncheck.analysis.FailOn;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.RunInfo;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.dump.BnModelFromDump;
import dev.bncheck.model.BnModel;
import java.nio.file.Path;

/** Reports of the samples, built without the command line. */
final class ReportFixtures {

  private ReportFixtures() {}

  static Report report(String sample) {
    CalibrationAccumulator data = new CalibrationAccumulator();
    BnModel model = new BnModelFromDump().load(Path.of(sample), data);
    return new Analyzer(Checks.ALL, Thresholds.DEFAULTS).analyze(model, data,
        Analyzer.DataAvailability.REQUESTED, new RunInfo("test", "check", "0", "embedded in model", null, FailOn.ERROR));
  }
}
