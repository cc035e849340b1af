package dev.bncheck.cli;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Report;
import dev.bncheck.app.CheckRun;
import dev.bncheck.load.ModelLoader;
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
  List<Path> dataFiles() {
    return List.of();
  }

  @Override
  Report run(Analyzer analyzer, ModelLoader loader) {
    return CheckRun.inspect(request(loader), analyzer);
  }
}
