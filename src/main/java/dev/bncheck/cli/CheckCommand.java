package dev.bncheck.cli;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Report;
import dev.bncheck.app.CheckRun;
import dev.bncheck.load.ModelLoader;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** Everything inspect does, plus the analysis of calibration data. */
@Command(name = "check", sortOptions = false, mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Check the batch-normalization layers against calibration data: both modes of every layer,"
        + " their divergence from the data's statistics, and every static check.")
final class CheckCommand extends ReportCommand {

  @Parameters(index = "0", paramLabel = "MODEL",
      description = "The model: a TensorFlow SavedModel directory, a frozen graph (.pb), an ONNX model (.onnx), a"
          + " Keras model (.keras, .h5), a PyTorch checkpoint (.pt, .pth, .safetensors) or a bncheck JSON dump.")
  Path model;

  @Mixin CalibrationOptions calibration;

  @Override
  Path modelFile() {
    return model;
  }

  @Override
  List<Path> dataFiles() {
    return calibration.request().dataFiles();
  }

  @Override
  Report run(Analyzer analyzer, ModelLoader loader) {
    return CheckRun.check(request(loader), calibration.request(), analyzer,
        sink -> ProgressSink.around(sink, common.verbosity.quiet()));
  }
}
