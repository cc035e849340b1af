package dev.bncheck.cli;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.RunInfo;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.Loaders;
import dev.bncheck.load.Sha256;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Everything inspect does, plus the analysis of calibration data. */
@Command(name = "check", sortOptions = false, mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Check the batch-normalization layers against calibration data: both modes of every layer,"
        + " their divergence from the data's statistics, and every static check.")
final class CheckCommand extends ReportCommand {

  @Parameters(index = "0", paramLabel = "MODEL", description = "The model: a TensorFlow SavedModel directory, a frozen graph (.pb) or a bncheck JSON dump.")
  Path model;

  @Option(names = "--inputs", paramLabel = "FILE",
      description = "Calibration data: a bncheck dump whose layers (matched by name) carry \"inputs\"."
          + " When given, activations embedded in MODEL are not used.")
  Path inputs;

  @Override
  List<Path> inputFiles() {
    return Arrays.asList(model, inputs);
  }

  @Override
  Report run(Analyzer analyzer) {
    CalibrationAccumulator accumulator = new CalibrationAccumulator();
    BnModel loaded;
    String data;
    String dataHash = null;
    if (inputs == null) {
      loaded = Loaders.forModel(model).load(model, modelOptions.toLoadOptions(), accumulator);
      data = "embedded in model";
    } else {
      loaded = Loaders.forModel(model).load(model, modelOptions.toLoadOptions(), CalibrationSink.NONE);
      Loaders.forCalibration(inputs).load(inputs, loaded, accumulator);
      data = inputs.toString();
      dataHash = Sha256.of(inputs);
    }
    RunInfo run = new RunInfo(VersionProvider.version(), "check", Sha256.of(model), data, dataHash, common.failOn);
    return analyzer.analyze(loaded, accumulator::layer, Analyzer.DataAvailability.REQUESTED, run);
  }
}
