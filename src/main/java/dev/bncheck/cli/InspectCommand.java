package dev.bncheck.cli;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.RunInfo;
import dev.bncheck.engine.CalibrationData;
import dev.bncheck.load.Loaders;
import dev.bncheck.load.Sha256;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Lists the BN layers and runs the checks that need no data. */
@Command(name = "inspect", sortOptions = false, mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "List every batch-normalization layer with its parameters and run the checks that need"
        + " no calibration data.")
final class InspectCommand extends ReportCommand {

  @Parameters(index = "0", paramLabel = "MODEL", description = "The model: a TensorFlow SavedModel directory, a frozen graph"
      + " (.pb), an ONNX model (.onnx), a Keras model (.keras, .h5), a PyTorch checkpoint (.pt, .pth, .safetensors) or a"
      + " bncheck JSON dump.")
  Path model;

  @Override
  Path modelFile() {
    return model;
  }

  @Override
  List<Path> inputFiles() {
    return List.of(model);
  }

  @Override
  Report run(Analyzer analyzer) {
    CompletableFuture<String> modelHash = inBackground(() -> Sha256.of(model));
    BnModel loaded = Loaders.forModel(model).load(model, modelOptions.toLoadOptions(), CalibrationSink.NONE);
    RunInfo run = new RunInfo(VersionProvider.version(), "inspect", join(modelHash), "none", null, common.failOn,
        modelOptions.relaxations(), common.requireBn);
    return analyzer.analyze(loaded, CalibrationData.NONE, Analyzer.DataAvailability.NOT_REQUESTED, run);
  }
}
