package dev.bncheck.cli;

import dev.bncheck.app.OutputException;
import dev.bncheck.app.RecalibrationRun;
import dev.bncheck.load.Loaders;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.report.AtomicFile;
import dev.bncheck.report.RecalibrationReport;
import dev.bncheck.report.RecalibrationReportWriter;
import dev.bncheck.report.ReportFormat;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Recomputes the BN moving statistics of a model on calibration data and writes a fixed copy. */
@Command(name = "recalibrate", sortOptions = false, mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Recompute every BN layer's moving mean and variance as the population statistics of the"
        + " calibration data that reaches it, layer by layer in network order, write a new model of the same kind"
        + " (a SavedModel, an ONNX file), and verify it on held-out data.")
final class RecalibrateCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "MODEL", description = "A TensorFlow SavedModel directory, an ONNX model (.onnx) or a bncheck JSON dump.")
  Path model;

  @Mixin RecalibrationOptions options;

  @Mixin Verbosity verbosity;

  @Mixin ModelOptions modelOptions;

  @Spec CommandSpec spec;

  /** The loader for a model: the registered ones, or a test's. */
  Function<Path, ModelLoader> loaders = Loaders::forModel;

  @Override
  public Integer call() {
    ModelLoader loader = loaders.apply(model);
    RecalibrationRun.requireRecalibratable(loader);
    requireOutputsAreSeparate(loader);
    RecalibrationReport report = RecalibrationRun.run(options.request(model, loader, modelOptions.toLoadOptions()));
    emit(report);
    if (report.written()) {
      return ExitCodes.PASS;
    }
    // said on standard error too, for logs that keep only that
    PrintWriter err = spec.commandLine().getErr();
    report.refusals().forEach(r -> err.println("bncheck: recalibrate refused: " + r + "; nothing written (--force writes anyway)"));
    err.flush();
    return ExitCodes.FINDINGS;
  }

  /** Neither output may replace an input, and they may not be one file: usage errors before any work. */
  private void requireOutputsAreSeparate(ModelLoader loader) {
    List<Path> read = new ArrayList<>(List.of(model));
    read.addAll(options.inputFiles());
    read.addAll(loader.sideFiles(model));
    ConfigFile config = ((BnCheckCommand) spec.root().userObject()).config;
    if (config != null) {
      read.add(config.path());
    }
    List<InputOverlap.Output> outputs = new ArrayList<>(List.of(new InputOverlap.Output("--out " + options.out,
        options.out, InputOverlap.Kind.FILE_OR_FOLDER)));
    if (options.output != null) {
      outputs.add(new InputOverlap.Output("--output " + options.output, options.output));
    }
    InputOverlap.requireSeparate(spec, outputs, read);
  }

  /**
   * The report, on standard output or atomically into --output, there in the format its extension
   * names when --format does not name one and a recalibration report has it.
   */
  private void emit(RecalibrationReport report) {
    try {
      if (options.output == null) {
        RecalibrationReportWriter.write(report, options.format, VersionProvider.version(), spec.commandLine().getOut());
      } else {
        ReportFormat named = ReportFormat.ofFileName(options.output);
        ReportFormat format = spec.commandLine().getParseResult().hasMatchedOption("--format")
            || !RecalibrationReportWriter.FORMATS.contains(named) ? options.format : named;
        AtomicFile.write(options.output,
            w -> RecalibrationReportWriter.write(report, format, VersionProvider.version(), w));
      }
    } catch (IOException e) {
      throw new OutputException((options.output == null ? "standard output" : options.output.toString())
          + ": cannot write the report: " + e.getMessage(), e);
    }
  }
}
