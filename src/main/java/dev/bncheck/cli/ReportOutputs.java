package dev.bncheck.cli;

import dev.bncheck.app.OutputException;
import dev.bncheck.analysis.Report;
import dev.bncheck.report.AtomicFile;
import dev.bncheck.report.ReportFormat;
import dev.bncheck.report.ReportWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;

/** Where a report goes: standard output or {@code --output}, and every {@code --report}. */
final class ReportOutputs {

  private final CommandSpec spec;
  private final CommonOptions common;

  ReportOutputs(CommandSpec spec, CommonOptions common) {
    this.spec = spec;
    this.common = common;
  }

  /** Checked before the model is read, so that a wrong command line costs nothing. */
  void requireSeparate(List<Path> inputs) {
    List<InputOverlap.Output> outputs = new ArrayList<>();
    if (common.output != null) {
      outputs.add(new InputOverlap.Output("--output " + common.output, common.output));
    }
    for (CommonOptions.ExtraReport extra : common.reports) {
      outputs.add(new InputOverlap.Output(extra.option(), extra.file()));
    }
    List<Path> read = new ArrayList<>(inputs);
    // a baseline that exists is read; one that does not is written
    if (common.baseline != null && Files.exists(common.baseline)) {
      read.add(common.baseline);
    } else if (common.baseline != null) {
      outputs.add(new InputOverlap.Output("--baseline " + common.baseline, common.baseline));
    }
    InputOverlap.requireSeparate(spec, outputs, read);
  }

  boolean any() {
    return common.output != null || !common.reports.isEmpty() || common.baseline != null;
  }

  void write(Report report) throws IOException {
    if (common.output != null) {
      writeFile(report, formatOf(spec, common.format, common.output, List.of(ReportFormat.values())), common.output);
    } else {
      ReportWriter writer = common.format.writer(common.format == ReportFormat.TEXT && Terminal.wantsColour());
      PrintWriter out = spec.commandLine().getOut();
      writer.write(report, out);
      out.flush();
    }
    for (CommonOptions.ExtraReport extra : common.reports) {
      writeFile(report, extra.format(), extra.file());
    }
  }

  /**
   * The format {@code --output} is written in: the one {@code --format} names, else the one the
   * file's extension names where the report has it, else the default {@code given}.
   */
  static ReportFormat formatOf(CommandSpec spec, ReportFormat given, Path output, List<ReportFormat> available) {
    if (spec.commandLine().getParseResult().hasMatchedOption("--format") || given != ReportFormat.TEXT) {
      return given;
    }
    ReportFormat named = ReportFormat.ofFileName(output);
    return available.contains(named) ? named : given;
  }

  private static void writeFile(Report report, ReportFormat format, Path file) {
    ReportWriter writer = format.writer(false);
    try {
      AtomicFile.write(file, out -> writer.write(report, out));
    } catch (IOException e) {
      throw new OutputException(file + ": cannot write the report: " + e.getMessage(), e);
    }
  }
}
