package dev.bncheck.load.onnx;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.InvalidOptionException;
import dev.bncheck.load.JavaHeap;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelSession;
import dev.bncheck.load.array.InputArray;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.model.Backend;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An ONNX model read and checked in Java, run in ONNX Runtime pass by pass: each pass starts a
 * runtime session on the in-memory copy it needs and closes it at its end. Statistics assigned in
 * the session are in every later copy, and in the file {@link #saveTo} writes.
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
  /** The statistics assigned in this session, by layer: mean and variance. */
  private final Map<Integer, double[][]> assigned = new LinkedHashMap<>();
  /** The layers switched to inference mode in this session. */
  private final Set<Integer> inferenceMode = new java.util.TreeSet<>();

  /** The data's name in messages about runs on data given to the session. */
  private static final String LABEL = "--inputs";

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

  /** A model file's bytes and the model they hold, read once for its side files and its session. */
  record ModelFile(Path path, byte[] bytes, OnnxProto.Model model) {
    static ModelFile read(Path input) {
      byte[] bytes = OnnxSession.read(input);
      return new ModelFile(input, bytes, OnnxReader.readModel(input.toString(), bytes));
    }
  }

  /** Checks the model read and finds its layers; ONNX Runtime is not started. */
  static OnnxSession open(ModelFile read, LoadOptions options) {
    Path input = read.path();
    String file = input.toString();
    byte[] bytes = read.bytes();
    OnnxProto.Model model = read.model();
    OnnxSafety.check(file, model, !options.trustModel());
    ExternalData external = new ExternalData(input);
    OnnxBnLayers.Found found = OnnxBnLayers.find(file, model, external);
    if (!options.tensorFlow().inputNodes().isEmpty()) {
      throw new InvalidOptionException("--input-node", "applies to TensorFlow models only; an ONNX model is fed"
          + " at its graph inputs");
    }
    return new OnnxSession(input, bytes, model, external, found, options);
  }

  private static final Backend ONNX_RUNTIME = new Backend("ONNX Runtime", "graph output");

  @Override
  public Backend backend() {
    return ONNX_RUNTIME;
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
      // nothing to capture, but data that cannot be read is an error whatever the model; and a
      // layer that could not be read may still normalize with batch statistics (BN002): whether
      // the outputs depend on the batch is measured as for any model (BN005)
      if (!options.inputs().isEmpty()) {
        Map<String, Tensor> data = ModelInputs.read(options.inputs());
        if (model.unresolved().stream().anyMatch(dev.bncheck.model.UnresolvedLayer::trainingMode)) {
          batchSizeConsistency(data, options.batchSize(), sink);
        }
      }
    } else {
      fed = OnnxCalibration.inference(input, bytes, proto, found, external, options, sink);
    }
  }

  @Override
  public boolean offersTrainingView() {
    return fed != null && options.trainingViewSamples() > 0 && fed.batchSize() > 1
        && TrainingView.applies(proto, found, fed.inputs());
  }

  @Override
  public void capture(Map<String, Tensor> data, Set<Integer> layers, int batchSize, CalibrationSink sink) {
    List<OnnxBnLayers.BnNode> nodes = found.nodes().stream().filter(n -> layers.contains(n.layer())).toList();
    List<String> captured = OrtRunner.distinct(nodes.stream().map(n -> n.node().inputs().get(0)).toList());
    inBatches(data, batchSize, captured, (name, tensor) -> {
      for (OnnxBnLayers.BnNode bn : nodes) {
        if (tensor != null && bn.node().inputs().get(0).equals(name)
            && OnnxCalibration.hasChannels(tensor, found.layers().get(bn.layer()))) {
          sink.accept(bn.layer(), tensor, found.layers().get(bn.layer()).resolveChannelAxis(tensor.shape().length));
        }
      }
    });
  }

  @Override
  public void batchSizeConsistency(Map<String, Tensor> data, int batchSize, CalibrationSink sink) {
    List<OnnxInputs.Input> inputs = OnnxInputs.of(proto.graph());
    List<String> outputs = OnnxCalibration.batchedFloatOutputs(proto.graph(), inputs);
    List<OnnxInputs.Feed> feeds = OnnxInputs.match(inputs, InputArray.numbers(data));
    if (outputs.isEmpty() || !inputs.stream().allMatch(OnnxInputs.Input::dynamicBatch)) {
      return;
    }
    int count = Math.min(batchSize, feeds.get(0).data().shape()[0]);
    try (OrtRunner ort = OrtRunner.open(input.toString(), runnable(List.of()), options.timeout())) {
      Map<String, Tensor> batched = new LinkedHashMap<>();
      ort.run(feeds, 0, count, outputs, LABEL, (name, tensor) -> {
        if (tensor != null) {
          batched.put(name, tensor);
        }
      });
      BatchSizeProbe.compare(ort, feeds, batched, LABEL, sink);
    }
  }

  @Override
  public dev.bncheck.load.Predictions predictions(Map<String, Tensor> data, int batchSize) {
    String first = proto.graph().outputs().stream()
        .filter(o -> o.elemType() == OnnxProto.FLOAT || o.elemType() == OnnxProto.DOUBLE
            || o.elemType() == OnnxProto.FLOAT16)
        .map(OnnxProto.ValueInfo::name).findFirst()
        .orElseThrow(() -> new InvalidInputException("--labels", "", "the model has no float output"));
    List<Integer> predicted = new ArrayList<>();
    int[] width = new int[1];
    inBatches(data, batchSize, List.of(first), (name, logits) -> {
      int samples = logits.shape()[0];
      int classes = logits.size() / Math.max(1, samples);
      width[0] = classes;
      for (int s = 0; s < samples; s++) {
        int best = 0;
        for (int k = 1; k < classes; k++) {
          best = logits.get(s * classes + k) > logits.get(s * classes + best) ? k : best;
        }
        predicted.add(best);
      }
    });
    return new dev.bncheck.load.Predictions(predicted.stream().mapToInt(Integer::intValue).toArray(), width[0]);
  }

  /**
   * Runs the model with the session's statistics on every sample of the data, {@code batchSize}
   * at a time (a model whose inputs fix the batch size, that many: the rest is left out), and
   * hands the named outputs of each run to {@code consumer}.
   */
  private void inBatches(Map<String, Tensor> data, int batchSize, List<String> outputs,
      java.util.function.BiConsumer<String, Tensor> consumer) {
    List<OnnxInputs.Input> inputs = OnnxInputs.of(proto.graph());
    List<OnnxInputs.Feed> feeds = OnnxInputs.match(inputs, InputArray.numbers(data));
    long rows = feeds.isEmpty() ? 1 : feeds.get(0).data().shape()[0];
    int size = OnnxCalibration.batchSize(feeds, batchSize, rows, LABEL);
    long samples = inputs.stream().allMatch(OnnxInputs.Input::dynamicBatch) ? rows : rows / size * size;
    try (OrtRunner ort = OrtRunner.open(input.toString(), runnable(outputs), options.timeout())) {
      for (long start = 0; start < samples; start += size) {
        ort.run(feeds, (int) start, (int) Math.min(size, samples - start), outputs, LABEL, consumer);
      }
    }
  }

  /** The copy ONNX Runtime runs: the model with the session's statistics, the given tensors made outputs. */
  private byte[] runnable(List<String> outputs) {
    return RunnableModel.build(input.toString(), bytes, proto, external, outputs,
        StatisticsEdit.of(input.toString(), proto, found, assigned, inferenceMode));
  }

  @Override
  public void assignStatistics(int layerIndex, double[] mean, double[] variance) {
    assigned.put(layerIndex, new double[][] {mean.clone(), variance.clone()});
  }

  @Override
  public void switchToInferenceMode(int layerIndex) {
    inferenceMode.add(layerIndex);
  }

  /**
   * Writes the model with the session's statistics as a new file: every field as it is but the
   * statistics (see {@link StatisticsEdit}), tensors kept in side files included in it, so that
   * the new model is one self-contained file.
   */
  @Override
  public void saveTo(Path file) {
    try {
      Files.write(file, runnable(List.of()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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

  /**
   * The side files the model's tensors are stored in, each once, in the order first named: those
   * of the main graph's initializers, the only tensors whose external data a model may use
   * ({@link OnnxSafety} refuses any other before anything is written).
   */
  static List<Path> externalDataFiles(ModelFile read) {
    OnnxProto.Model model = read.model();
    ExternalData external = new ExternalData(read.path());
    java.util.Set<Path> files = new java.util.LinkedHashSet<>();
    for (OnnxProto.TensorProto tensor : model.graph().initializers()) {
      if (tensor.isExternal()) {
        files.add(external.location(tensor, "tensor " + tensor.name()));
      }
    }
    return List.copyOf(files);
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
