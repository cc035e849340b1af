package dev.bncheck.load.onnx;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.JavaHeap;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Loads the BN layers of an ONNX model ({@code .onnx}), reading the file in Java; with
 * calibration data, runs it in ONNX Runtime ({@link OnnxCalibration}), whose native library is
 * loaded only then.
 */
public final class BnModelFromOnnx implements ModelLoader {

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
  public BnModel load(Path input, LoadOptions options, CalibrationSink sink) {
    String file = input.toString();
    byte[] bytes = read(input);
    OnnxProto.Model model = OnnxReader.readModel(file, bytes);
    OnnxSafety.check(file, model, !options.trustModel());
    ExternalData external = new ExternalData(input);
    OnnxBnLayers.Found found = OnnxBnLayers.find(file, model, external);
    if (!options.inputNodes().isEmpty()) {
      throw new InvalidInputException("--input-node", "", "applies to TensorFlow models only; an ONNX model is fed"
          + " at its graph inputs");
    }
    if (options.runsOnData() && sink.wantsActivations() && !found.layers().isEmpty()) {
      OnnxCalibration.run(input, bytes, model, found, external, options, sink);
    } else if (!options.inputs().isEmpty()) {
      ModelInputs.readArrays(options.inputs());
    }
    return new BnModel(file, format(model), model.producerName().isEmpty() ? null : model.producerName(),
        model.graph().name().isEmpty() ? null : model.graph().name(), found.layers(), found.unresolved());
  }

  private static String format(OnnxProto.Model model) {
    return "ONNX model (IR version " + model.irVersion() + ", opset " + model.defaultOpset()
        + (model.producerName().isEmpty() ? "" : ", produced by " + model.producerName()
        + (model.producerVersion().isEmpty() ? "" : " " + model.producerVersion())) + ")";
  }

  private static byte[] read(Path input) {
    try {
      long size = Files.size(input);
      if (size > OnnxLimits.MAX_MODEL_BYTES) {
        throw new InvalidInputException(input.toString(), "", "larger than " + OnnxLimits.MAX_MODEL_BYTES
            + " bytes, protobuf's limit for one message");
      }
      // the bytes, the values read from them, and the copy ONNX Runtime gets are in memory at once
      if (!JavaHeap.fits(3 * size)) {
        throw new InvalidInputException(input.toString(), "", "a model of " + size + " bytes "
            + JavaHeap.tooLarge(3 * size));
      }
      return Files.readAllBytes(input);
    } catch (IOException e) {
      throw new InvalidInputException(input.toString(), "", "cannot read: " + e.getMessage(), e);
    }
  }
}
