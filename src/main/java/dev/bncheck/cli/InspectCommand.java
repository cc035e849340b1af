package dev.bncheck.cli;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Report;
import dev.bncheck.app.CheckRun;
import dev.bncheck.load.Loaders;
import java.nio.file.Path;
import java.util.List;
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
    return CheckRun.inspect(request(Loaders.forModel(model)), analyzer);
  }
}
