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
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
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
    Thresholds thresholds = thresholdOptions.toThresholds();
    ReportOutputs outputs = new ReportOutputs(spec, common);
    ConfigFile config = ((BnCheckCommand) spec.root().userObject()).config;
    if (outputs.any()) {
      List<Path> inputs = new ArrayList<>(inputFiles());
      inputs.addAll(Loaders.forModel(modelFile()).sideFiles(modelFile()));
      Optional.ofNullable(config).ifPresent(c -> inputs.add(c.path()));
      outputs.requireSeparate(inputs);
    }
    Report report = run(new Analyzer(Checks.ALL, thresholds, config == null ? List.of() : config.ignores()));
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
