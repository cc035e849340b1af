package dev.bncheck.cli;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Checks;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.app.CheckRun;
import dev.bncheck.load.Loaders;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.report.ControlCharacters;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What inspect and check share: options, thresholds, writing the report, the exit code. */
abstract class ReportCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Mixin ModelOptions modelOptions;

  @Mixin ThresholdOptions thresholdOptions;

  @Spec CommandSpec spec;

  /** The loader for a model: the registered ones, or a test's. */
  Function<Path, ModelLoader> loaders = Loaders::forModel;

  /** Loads the model with {@code loader} and analyses it. */
  abstract Report run(Analyzer analyzer, ModelLoader loader);

  /** The data files this run reads besides the model, which it must never overwrite. */
  abstract List<Path> dataFiles();

  /** The model file or folder the command reads. */
  abstract Path modelFile();

  @Override
  public Integer call() throws IOException {
    Thresholds thresholds = thresholdOptions.toThresholds();
    ReportOutputs outputs = new ReportOutputs(spec, common);
    ModelLoader loader = loaders.apply(modelFile());
    if (outputs.any()) {
      outputs.requireSeparate(InputOverlap.readBy(spec, modelFile(), loader, dataFiles()));
    }
    ConfigFile config = ((BnCheckCommand) spec.root().userObject()).config;
    Report report = run(new Analyzer(Checks.ALL, thresholds, config == null ? List.of() : config.ignores()), loader);
    if (common.baseline != null) {
      report = BaselineFile.apply(report, common.baseline);
    }
    outputs.write(report);
    Optional<String> selfCheckFailure = report.selfCheckFailure();
    if (selfCheckFailure.isPresent()) {
      spec.commandLine().getErr().println("bncheck: internal error: " + ControlCharacters.escape(selfCheckFailure.get()));
      return ExitCodes.INTERNAL_ERROR;
    }
    return report.failed() ? ExitCodes.FINDINGS : ExitCodes.PASS;
  }

  /** The model to read with {@code loader}, as the options given say to read and report it. */
  CheckRun.Request request(ModelLoader loader) {
    return new CheckRun.Request(modelFile(), loader, modelOptions.toLoadOptions(), new CheckRun.Settings(
        VersionProvider.version(), common.failOn, modelOptions.relaxations(), common.requireBn));
  }
}
