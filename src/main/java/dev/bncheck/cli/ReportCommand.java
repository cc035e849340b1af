package dev.bncheck.cli;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Checks;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.model.Numbers;
import dev.bncheck.report.AtomicFile;
import dev.bncheck.report.ReportFormat;
import dev.bncheck.report.ReportWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What inspect and check share: options, thresholds, writing the report, the exit code. */
abstract class ReportCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Mixin ModelOptions modelOptions;

  @Mixin ThresholdOptions thresholdOptions;

  @Spec CommandSpec spec;

  /** Loads and analyses the model. */
  abstract Report run(Analyzer analyzer);

  /** The files this run reads, which it must never overwrite. */
  abstract List<Path> inputFiles();

  @Override
  public Integer call() throws IOException {
    Thresholds thresholds;
    try {
      thresholds = thresholdOptions.toThresholds();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    requireOutputIsNotAnInput();
    Report report = run(new Analyzer(Checks.ALL, thresholds));
    write(report);
    for (var layer : report.layers()) {
      var check = layer.calibration().flatMap(c -> c.selfCheck());
      if (check.isPresent() && !check.get().passed()) {
        spec.commandLine().getErr().println("bncheck: internal error: layer " + layer.layer().name()
            + ": bncheck's " + (check.get().trainingMode() ? "training" : "inference") + "-mode output differs from"
            + " TensorFlow's by " + Numbers.brief(check.get().maxAbsDifference()) + " (relative "
            + Numbers.brief(check.get().relativeDifference()) + "), beyond float32 round-off; please report it");
        return ExitCodes.INTERNAL_ERROR;
      }
    }
    return report.failed() ? ExitCodes.FINDINGS : ExitCodes.PASS;
  }

  private void write(Report report) throws IOException {
    if (common.output != null) {
      ReportWriter writer = common.format.writer(false);
      try {
        AtomicFile.write(common.output, out -> writer.write(report, out));
      } catch (IOException e) {
        throw new OutputException(common.output + ": cannot write the report: " + e.getMessage(), e);
      }
      return;
    }
    ReportWriter writer = common.format.writer(common.format == ReportFormat.TEXT && Terminal.wantsColour());
    PrintWriter out = spec.commandLine().getOut();
    writer.write(report, out);
    out.flush();
  }

  private void requireOutputIsNotAnInput() throws IOException {
    if (common.output == null || !Files.exists(common.output)) {
      return;
    }
    for (Path input : inputFiles()) {
      if (input != null && Files.exists(input) && Files.isSameFile(input, common.output)) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--output " + common.output + " is an input of this run; bncheck never overwrites its inputs");
      }
    }
  }

  CommonOptions commonOptions() {
    return common;
  }
}
