package dev.bncheck.load.onnx;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.JavaHeap;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelSession;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * An ONNX model read and checked in Java, run in ONNX Runtime pass by pass: each pass starts a
 * runtime session on the in-memory copy it needs and closes it at its end.
 */
final class OnnxSession implements ModelSession {

  private final Path input;
  private final byte[] bytes;
  private final OnnxProto.Model proto;
  private final ExternalData external;
  private final OnnxBnLayers.Found found;
  private final LoadOptions options;
  private final BnModel model;
  /** The data as the inference view fed it, once it has run. */
  private OnnxCalibration.Fed fed;

  private OnnxSession(Path input, byte[] bytes, OnnxProto.Model proto, ExternalData external,
      OnnxBnLayers.Found found, LoadOptions options) {
    this.input = input;
    this.bytes = bytes;
    this.proto = proto;
    this.external = external;
    this.found = found;
    this.options = options;
    this.model = new BnModel(input.toString(), format(proto), proto.producerName().isEmpty() ? null
        : proto.producerName(), proto.graph().name().isEmpty() ? null : proto.graph().name(), found.layers(),
        found.unresolved());
  }

  /** Reads and checks the model and finds its layers; ONNX Runtime is not started. */
  static OnnxSession open(Path input, LoadOptions options) {
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
    return new OnnxSession(input, bytes, model, external, found, options);
  }

  @Override
  public BnModel model() {
    return model;
  }

  @Override
  public void calibrate(View view, CalibrationSink sink) {
    if (view == View.TRAINING) {
      if (!offersTrainingView()) {
        throw new IllegalStateException("no training view to run: " + input);
      }
      OnnxCalibration.trainingView(input, bytes, proto, found, external, fed, options, sink);
    } else if (found.layers().isEmpty()) {
      // nothing to capture, but data that cannot be read is an error whatever the model
      if (!options.inputs().isEmpty()) {
        ModelInputs.readArrays(options.inputs());
      }
    } else {
      fed = OnnxCalibration.inference(input, bytes, proto, found, external, options, sink);
    }
  }

  @Override
  public boolean offersTrainingView() {
    return fed != null && options.trainingViewSamples() > 0 && fed.batchSize() > 1
        && TrainingView.applies(proto, found, fed.ranks());
  }

  @Override
  public void capture(Map<String, Tensor> data, Set<Integer> layers, int batchSize, CalibrationSink sink) {
    throw notWritten();
  }

  @Override
  public void batchSizeConsistency(Map<String, Tensor> data, int batchSize, CalibrationSink sink) {
    throw notWritten();
  }

  @Override
  public int[] predictions(Map<String, Tensor> data, int batchSize) {
    throw notWritten();
  }

  @Override
  public void assignStatistics(int layerIndex, double[] mean, double[] variance) {
    throw notWritten();
  }

  @Override
  public void saveTo(Path directory) {
    throw notWritten();
  }

  private UnsupportedOperationException notWritten() {
    return new UnsupportedOperationException(input + ": bncheck does not recalibrate ONNX models");
  }

  @Override
  public void close() {
    // every runtime session closes with the pass that opened it
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
