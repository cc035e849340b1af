package dev.bncheck.load.onnx;

import dev.bncheck.load.CalibrationPasses;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.load.ModelSession;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Loads the BN layers of an ONNX model ({@code .onnx}), reading the file in Java; with
 * calibration data, runs it in ONNX Runtime ({@link OnnxSession}), whose native library is
 * loaded only then.
 */
public final class BnModelFromOnnx implements ModelLoader {

  /**
   * The file {@link #sideFiles} read, which {@link #open} takes instead of reading and parsing it
   * a second time (1.4 s of a check of a 100 MB model).
   */
  private OnnxSession.ModelFile lastRead;

  @Override
  public String description() {
    return "an ONNX model (a .onnx file)";
  }

  @Override
  public boolean accepts(Path input) {
    return !Files.isDirectory(input) && input.getFileName() != null
        && input.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
  }

  @Override
  public boolean runsModel() {
    return true;
  }

  @Override
  public boolean writesStatistics() {
    return true;
  }

  @Override
  public List<Path> sideFiles(Path input) {
    lastRead = OnnxSession.ModelFile.read(input);
    return OnnxSession.externalDataFiles(lastRead);
  }

  @Override
  public ModelSession open(Path input, LoadOptions options) {
    OnnxSession.ModelFile read = lastRead != null && lastRead.path().equals(input) ? lastRead
        : OnnxSession.ModelFile.read(input);
    lastRead = null;
    return OnnxSession.open(read, options);
  }

  @Override
  public BnModel load(Path input, LoadOptions options, CalibrationSink sink) {
    ModelSession session = open(input, options);
    if (options.runsOnData() && sink.wantsActivations()) {
      return CalibrationPasses.runAll(session, sink);
    }
    if (!options.inputs().isEmpty()) {
      ModelInputs.readArrays(options.inputs());
    }
    return session.model();
  }
}
