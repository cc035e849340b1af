package dev.bncheck.cli;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Checks;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.load.Loaders;
import dev.bncheck.report.AtomicFile;
import dev.bncheck.report.ControlCharacters;
import dev.bncheck.report.ReportFormat;
import dev.bncheck.report.ReportWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
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

  /** The model file or folder the command reads. */
  abstract Path modelFile();

  @Override
  public Integer call() throws IOException {
    Thresholds thresholds;
    try {
      thresholds = thresholdOptions.toThresholds();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    requireOutputsAreSeparate();
    ConfigFile config = ((BnCheckCommand) spec.root().userObject()).config;
    Report report = run(new Analyzer(Checks.ALL, thresholds, config == null ? List.of() : config.ignores()));
    if (common.baseline != null) {
      report = BaselineFile.apply(report, common.baseline);
    }
    write(report);
    Optional<String> selfCheckFailure = report.selfCheckFailure();
    if (selfCheckFailure.isPresent()) {
      spec.commandLine().getErr().println("bncheck: internal error: " + ControlCharacters.escape(selfCheckFailure.get()));
      return ExitCodes.INTERNAL_ERROR;
    }
    return report.failed() ? ExitCodes.FINDINGS : ExitCodes.PASS;
  }

  private void write(Report report) throws IOException {
    if (common.output != null) {
      writeFile(report, outputFormat(), common.output);
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
   * The format of {@code --output}: the one {@code --format} names, else the one its extension
   * names ({@code .json}, {@code .md}, {@code .html}, {@code .xml}); {@code -o report.html} had
   * written a text report into an HTML file.
   */
  private ReportFormat outputFormat() {
    if (spec.commandLine().getParseResult().hasMatchedOption("--format") || common.format != ReportFormat.TEXT) {
      return common.format;
    }
    String name = String.valueOf(common.output.getFileName()).toLowerCase(java.util.Locale.ROOT);
    int dot = name.lastIndexOf('.');
    return switch (dot < 0 ? "" : name.substring(dot + 1)) {
      case "json" -> ReportFormat.JSON;
      case "md", "markdown" -> ReportFormat.MARKDOWN;
      case "html", "htm" -> ReportFormat.HTML;
      case "xml" -> ReportFormat.JUNIT;
      default -> ReportFormat.TEXT;
    };
  }

  private static void writeFile(Report report, ReportFormat format, Path file) {
    ReportWriter writer = format.writer(false);
    try {
      AtomicFile.write(file, out -> writer.write(report, out));
    } catch (IOException e) {
      throw new OutputException(file + ": cannot write the report: " + e.getMessage(), e);
    }
  }

  /**
   * Checked before the model is read, so that a wrong command line costs nothing: no output may
   * replace an input or lie inside one (a file of a SavedModel), and no two outputs may be one
   * file, where the last would silently win.
   */
  private void requireOutputsAreSeparate() {
    record Output(String option, Path file) {}
    List<Output> outputs = new ArrayList<>();
    if (common.output != null) {
      outputs.add(new Output("--output " + common.output, common.output));
    }
    for (CommonOptions.ExtraReport extra : common.reports) {
      outputs.add(new Output(extra.option(), extra.file()));
    }
    if (outputs.isEmpty()) {
      return;
    }
    List<Path> inputs = new ArrayList<>(inputFiles());
    inputs.addAll(Loaders.forModel(modelFile()).sideFiles(modelFile()));
    ConfigFile config = ((BnCheckCommand) spec.root().userObject()).config;
    if (config != null) {
      inputs.add(config.path());
    }
    for (int i = 0; i < outputs.size(); i++) {
      Output output = outputs.get(i);
      OutputFolder.require(spec, output.option(), output.file());
      InputOverlap.requireNotAnInput(spec, output.option(), output.file(), inputs);
      for (Output earlier : outputs.subList(0, i)) {
        if (InputOverlap.sameFile(earlier.file(), output.file())) {
          throw new CommandLine.ParameterException(spec.commandLine(),
              earlier.option() + " and " + output.option() + " name the same file");
        }
      }
    }
  }

  CommonOptions commonOptions() {
    return common;
  }

  /**
   * An input's hash computed on a thread of its own beside the run: SHA-256 reads about 250 MB/s
   * here, over a second for a SavedModel and its data (docs/performance.md).
   */
  static CompletableFuture<String> inBackground(Supplier<String> hash) {
    return CompletableFuture.supplyAsync(hash, task -> {
      Thread thread = new Thread(task, "bncheck-sha256");
      thread.setDaemon(true);
      thread.start();
    });
  }

  static String join(CompletableFuture<String> hash) {
    try {
      return hash.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }
}
