package dev.bncheck.cli;

import dev.bncheck.app.RecalibrationRun;
import dev.bncheck.load.Loaders;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.report.RecalibrationReport;
import java.io.PrintWriter;
import java.nio.file.Path;
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
    RecalibrationOutputs outputs = new RecalibrationOutputs(spec, options);
    outputs.requireSeparate(model, loader);
    RecalibrationReport report = RecalibrationRun.run(options.request(model, loader, modelOptions.toLoadOptions()));
    outputs.write(report);
    if (report.written()) {
      return ExitCodes.PASS;
    }
    // said on standard error too, for logs that keep only that
    PrintWriter err = spec.commandLine().getErr();
    report.refusals().forEach(r -> err.println("bncheck: recalibrate refused: " + r + "; nothing written (--force writes anyway)"));
    err.flush();
    return ExitCodes.FINDINGS;
  }
}
