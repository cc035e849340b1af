package dev.bncheck.cli;

import dev.bncheck.app.OutputException;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.report.AtomicFile;
import dev.bncheck.report.RecalibrationReport;
import dev.bncheck.report.RecalibrationReportWriter;
import dev.bncheck.report.ReportFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;

/** Where recalibrate writes: the fixed model ({@code --out}) and its report (standard output or {@code --output}). */
final class RecalibrationOutputs {

  private final CommandSpec spec;
  private final RecalibrationOptions options;

  RecalibrationOutputs(CommandSpec spec, RecalibrationOptions options) {
    this.spec = spec;
    this.options = options;
  }

  /** Neither output may replace an input, and they may not meet each other: usage errors before any work. */
  void requireSeparate(Path model, ModelLoader loader) {
    List<InputOverlap.Output> outputs = new ArrayList<>(List.of(new InputOverlap.Output("--out " + options.out,
        options.out, InputOverlap.Kind.FILE_OR_FOLDER)));
    if (options.output != null) {
      outputs.add(new InputOverlap.Output("--output " + options.output, options.output));
    }
    InputOverlap.requireSeparate(spec, outputs, InputOverlap.readBy(spec, model, loader, options.inputFiles()));
  }

  /**
   * The report, on standard output or atomically into --output, there in the format its extension
   * names when --format does not name one and a recalibration report has it.
   */
  void write(RecalibrationReport report) {
    try {
      if (options.output == null) {
        RecalibrationReportWriter.write(report, options.format, VersionProvider.version(), spec.commandLine().getOut());
      } else {
        ReportFormat format = ReportOutputs.formatOf(spec, options.format, options.output,
            RecalibrationReportWriter.FORMATS);
        AtomicFile.write(options.output,
            w -> RecalibrationReportWriter.write(report, format, VersionProvider.version(), w));
      }
    } catch (IOException e) {
      throw new OutputException((options.output == null ? "standard output" : options.output.toString())
          + ": cannot write the report: " + e.getMessage(), e);
    }
  }
}
