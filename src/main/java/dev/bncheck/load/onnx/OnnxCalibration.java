package dev.bncheck.load.onnx;

import dev.bncheck.load.Background;
import dev.bncheck.load.BatchOrder;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.array.DistinctSamples;
import dev.bncheck.load.array.InputArray;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.load.array.SampleOrder;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Runs an ONNX model on calibration data in ONNX Runtime, batch by batch, and streams what
 * reaches every BN node into the sink: the node's input X, made a graph output of the copy the
 * runtime gets; on the first batch also the node's output Y, for the self-check of bncheck's
 * inference-mode output against the runtime's, and the model's outputs, compared with the same
 * samples run alone (BN005). The training view runs in a pass of its own ({@link TrainingView}),
 * on what this pass fed.
 */
final class OnnxCalibration {

  /**
   * The bytes of BN inputs one run captures at most, where the model lets a batch run in parts:
   * on a ResNet-50 a batch of 32 captures 1.35 GB, and first touching that much fresh memory took
   * longer than the run itself.
   */
  static final long CAPTURE_BUDGET = 256L << 20;

  /** Samples of the first batch whose BN outputs are compared with the runtime's; every channel is in each. */
  static final int SELF_CHECK_SAMPLES = 2;

  /** The name of the threads that work beside ONNX Runtime's. */
  private static final String BACKGROUND = "bncheck-onnx-background";

  /** Samples also run alone for BN005: enough to show batch dependence, few enough to stay cheap. */
  static final int SINGLE_SAMPLES = 8;

  private OnnxCalibration() {}

  /**
   * The data as the inference view fed it, for the training view.
   *
   * @param samples the samples the inference view ran
   * @param inputs what reached each BN node, by node, where it was captured
   */
  record Fed(List<OnnxInputs.Feed> feeds, int batchSize, long samples, Map<Integer, TrainingView.NodeInput> inputs,
      String label) {}

  /** The inference view, with the self-check and BN005. */
  static Fed inference(Path input, byte[] bytes, OnnxProto.Model model, OnnxBnLayers.Found found,
      ExternalData external, LoadOptions options, CalibrationSink sink) {
    return inference(input, bytes, model, found, external, options, sink, CAPTURE_BUDGET);
  }

  /** The inference view, with runs capturing at most {@code captureBudget} bytes where the model allows. */
  static Fed inference(Path input, byte[] bytes, OnnxProto.Model model, OnnxBnLayers.Found found,
      ExternalData external, LoadOptions options, CalibrationSink sink, long captureBudget) {
    String file = input.toString();
    if (model.defaultOpset() < TrainingView.MIN_OPSET) {
      throw new InvalidInputException(file, "opset_import", "opset " + model.defaultOpset() + "; ONNX Runtime runs"
          + " opset " + TrainingView.MIN_OPSET + " and later: convert the model with"
          + " onnx.version_converter.convert_version(model, 15), or read its layers alone with bncheck inspect");
    }
    if (model.irVersion() > OrtRunner.MAX_IR_VERSION) {
      // onnx.helper.make_model writes the onnx package's own IR version, whatever the opset
      throw new InvalidInputException(file, "ir_version", "IR version " + model.irVersion() + "; the ONNX Runtime"
          + " bncheck runs with reads IR versions up to " + OrtRunner.MAX_IR_VERSION + ": set model.ir_version = "
          + OrtRunner.MAX_IR_VERSION + " before onnx.save (opset " + OrtRunner.MAX_OPSET + " and earlier need no"
          + " newer), or read its layers alone with bncheck inspect");
    }
    if (model.defaultOpset() > OrtRunner.MAX_OPSET) {
      throw new InvalidInputException(file, "opset_import", "opset " + model.defaultOpset() + "; the ONNX Runtime"
          + " bncheck runs with runs opsets up to " + OrtRunner.MAX_OPSET + ": export with opset_version="
          + OrtRunner.MAX_OPSET + " or convert the model with onnx.version_converter.convert_version(model, "
          + OrtRunner.MAX_OPSET + "), or read its layers alone with bncheck inspect");
    }
    List<OnnxInputs.Input> inputs = OnnxInputs.of(model.graph());
    Map<String, InputArray> data = options.inputs().isEmpty()
        ? OnnxInputs.synthetic(inputs, options.syntheticSamples()) : ModelInputs.readArrays(options.inputs());
    List<OnnxInputs.Feed> feeds = OnnxInputs.match(inputs, data);
    if (options.batchOrder() == BatchOrder.SHUFFLED && !feeds.isEmpty()) {
      int[] order = SampleOrder.permutation(feeds.get(0).data().shape()[0]);
      feeds = feeds.stream().map(f -> f.inOrder(order)).toList();
    }
    String label = options.inputs().isEmpty() ? "--synthetic " + options.syntheticSamples()
        : String.join(" ", options.inputs());
    long rows = feeds.isEmpty() ? 1 : feeds.get(0).data().shape()[0];
    int batchSize = batchSize(feeds, options.batchSize(), rows, label);
    // a model exported for a fixed batch size takes whole batches only: the rest is left out
    boolean fixedBatch = !inputs.stream().allMatch(OnnxInputs.Input::dynamicBatch);
    long samples = fixedBatch ? Math.min(options.maxSamples(), rows) / batchSize * batchSize
        : Math.min(options.maxSamples(), rows);
    // counting them reads every sample (0.2 s for ResNet-50's 256): beside the session's opening
    CompletableFuture<Long> distinct = data.isEmpty() ? null
        : Background.start(BACKGROUND, () -> DistinctSamples.count(data));
    if (fixedBatch) {
      sink.fixedBatch(batchSize, Math.min(options.maxSamples(), rows) - samples);
    }
    List<OnnxBnLayers.BnNode> nodes = found.nodes();
    Map<String, List<Integer>> readers = new LinkedHashMap<>();
    for (int n = 0; n < nodes.size(); n++) {
      readers.computeIfAbsent(nodes.get(n).node().inputs().get(0), k -> new ArrayList<>()).add(n);
    }
    List<String> captured = new ArrayList<>(readers.keySet());
    List<String> modelOutputs = batchedFloatOutputs(model.graph(), inputs);
    List<String> firstFetches = new ArrayList<>(captured);
    firstFetches.addAll(modelOutputs);
    // Only the BN inputs become graph outputs here: ONNX Runtime plans no memory reuse for graph
    // outputs, and the BN outputs as well (for the self-check) doubled every batch's run on a
    // ResNet-50, fetched or not; the self-check runs a copy of its own on a few samples
    sink.expectBatches();
    byte[] runnable = RunnableModel.build(file, bytes, model, external, firstFetches, RunnableModel.Edit.NONE);
    Set<Integer> uncaptured = new HashSet<>();
    Map<Integer, TrainingView.NodeInput> reached = new LinkedHashMap<>();
    List<String> selfCheckFetches = selfCheckFetches(found);
    Supplier<OrtRunner> selfCheckSession = () -> OrtRunner.open(file, RunnableModel.build(file, bytes, model,
        external, selfCheckFetches, RunnableModel.Edit.NONE), options.timeout());
    // a small model's self-check copy is built and its session opened beside the calibration's: both
    // run mostly on one core (ResNet-50, 98 MB: about 2 s of a 21 s check); a larger one's after it,
    // so that the two sessions' weights are not held at once
    CompletableFuture<OrtRunner> openedBeside = samples > 0 && bytes.length <= SELF_CHECK_BESIDE_LIMIT
        && model.graph().initializers().stream().noneMatch(OnnxProto.TensorProto::isExternal)
        ? Background.start(BACKGROUND, selfCheckSession) : null;
    try {
      try (OrtRunner ort = OrtRunner.open(file, runnable, options.timeout(), true)) {
        Map<String, Tensor> batchedOutputs = new LinkedHashMap<>();
        long batches = (samples + batchSize - 1) / batchSize;
        Map<String, long[]> shapes = samples > 1 && !fixedBatch ? ort.perSampleShapes(feeds, captured, label) : Map.of();
        // a part holds the rows of its own samples only where each BN input has one row per sample
        // (a model may add rows, fold the samples into another axis, or normalize over the batch)
        boolean batchDependent = fixedBatch || !shapes.keySet().containsAll(captured)
            || nodes.stream().anyMatch(OnnxBnLayers.BnNode::trainingMode);
        // parts need BN005's comparison of the model's outputs to be allowed: none, no parts
        int part = batchDependent || modelOutputs.isEmpty() ? batchSize : partSamples(batchSize,
            sink.samplesPerGroup(batchSize), bytesPerSample(shapes), captureBudget);
        // the sink reduces each BN input as it comes and keeps none: one set of buffers serves every run
        Map<String, long[]> pinnable = new LinkedHashMap<>(shapes);
        pinnable.keySet().retainAll(pinnable(model.graph(), captured));
        pinnable.keySet().removeAll(modelOutputs);
        BnInputDelivery delivery = new BnInputDelivery(found, readers, ort, sink, uncaptured, reached);
        PinnedOutputs pinned;
        BatchSizeProbe.Outcome batchSizeProbe = BatchSizeProbe.Outcome.NOT_COMPARED;
        // the samples of the first batch already delivered to the sink
        int firstBatchDelivered = 0;
        if (part < Math.min(batchSize, samples)) {
          // parts see the BN inputs of the whole batch only if no sample depends on the others (an
          // operator over the batch axis): the model's outputs on the first part, against its samples
          // run alone (BN005), say so before any batch runs. The samples run alone first, while the
          // buffers' memory is first touched beside them (1.2 to 1.5 s for ResNet-50's 336 MB on a
          // virtual machine); the first part then runs into the buffers, as every later part does,
          // and is held until BN005 allows it (ONNX Runtime's arena would otherwise grow by those
          // 336 MB for one run)
          int pinnedPart = part;
          CompletableFuture<PinnedOutputs> allocating = Background.start(BACKGROUND,
              () -> PinnedOutputs.allocate(pinnable, pinnedPart));
          List<Map<String, Tensor>> alone = BatchSizeProbe.alone(ort, feeds, modelOutputs, part, label);
          pinned = Background.joined(allocating);
          Map<String, Tensor> partOutputs = new LinkedHashMap<>();
          Map<String, Tensor> firstPart = new LinkedHashMap<>();
          ort.run(feeds, 0, part, firstFetches, label, pinned, (name, tensor) -> {
            if (modelOutputs.contains(name) && tensor != null) {
              partOutputs.put(name, tensor);
            }
            if (captured.contains(name)) {
              firstPart.put(name, tensor);
            }
          });
          batchSizeProbe = BatchSizeProbe.compare(partOutputs, alone, sink);
          if (batchSizeProbe == BatchSizeProbe.Outcome.INDEPENDENT) {
            int count = (int) Math.min(batchSize, samples);
            firstPart.forEach((name, tensor) -> delivery.deliver(name, tensor, count, false, false));
            firstBatchDelivered = part;
          } else {
            part = batchSize;
            pinned = PinnedOutputs.allocate(pinnable, part);
          }
        } else {
          pinned = PinnedOutputs.allocate(pinnable, part);
        }
        boolean probed = batchSizeProbe != BatchSizeProbe.Outcome.NOT_COMPARED;
        for (long start = 0; start < samples; start += batchSize) {
          sink.progress("calibration batches", start / batchSize, batches);
          int count = (int) Math.min(batchSize, samples - start);
          for (int offset = start == 0 ? firstBatchDelivered : 0; offset < count; offset += part) {
            int runSamples = Math.min(part, count - offset);
            boolean whole = runSamples == count;
            boolean endsBatch = offset + runSamples == count;
            boolean first = start == 0 && offset == 0 && !probed;
            ort.run(feeds, (int) start + offset, runSamples, first ? firstFetches : captured, label, pinned,
                (name, tensor) -> {
                  // the first batch's outputs only: a BN input that is also a model output is
                  // fetched with every batch, and the last (100 samples: 4) compared with the first
                  // batch's samples run alone gave BN005 to a healthy model
                  if (first && modelOutputs.contains(name) && tensor != null) {
                    batchedOutputs.put(name, tensor);
                  }
                  delivery.deliver(name, tensor, count, whole, endsBatch);
                });
          }
        }
        if (batchSize > 1 && !fixedBatch && !probed) {
          BatchSizeProbe.compare(ort, feeds, batchedOutputs, label, sink);
        }
      }
      if (samples > 0) {
        int count = fixedBatch ? batchSize : (int) Math.min(SELF_CHECK_SAMPLES, samples);
        if (openedBeside != null) {
          selfCheck(Background.joined(openedBeside), found, selfCheckFetches, feeds, count, uncaptured, label, sink);
        } else {
          try (OrtRunner ort = selfCheckSession.get()) {
            selfCheck(ort, found, selfCheckFetches, feeds, count, uncaptured, label, sink);
          }
        }
      }
    } finally {
      if (openedBeside != null) {
        openedBeside.handle((ort, failure) -> {
          if (ort != null) {
            ort.close();
          }
          return null;
        }).join();
      }
    }
    if (distinct != null) {
      sink.distinctSamples(samples, Math.min(Background.joined(distinct), samples));
    }
    return new Fed(feeds, batchSize, samples, reached, label);
  }

  /**
   * Hands each BN input a run captured to the sink as the input of every layer whose node reads
   * it, and notes the layers it cannot be (not a float tensor, or without the layer's channels).
   *
   * @param readers the BN nodes (by position in {@code found.nodes()}) that read each tensor
   * @param uncaptured the layers nothing is captured for, added to as found
   * @param reached what reached each node, for the training view, added to as first seen
   */
  private record BnInputDelivery(OnnxBnLayers.Found found, Map<String, List<Integer>> readers, OrtRunner ort,
      CalibrationSink sink, Set<Integer> uncaptured, Map<Integer, TrainingView.NodeInput> reached) {

    /** One fetched tensor of a run over part or all of a batch of {@code batchSamples} samples. */
    void deliver(String name, Tensor tensor, int batchSamples, boolean wholeBatch, boolean endsBatch) {
      for (int n : readers.getOrDefault(name, List.of())) {
        OnnxBnLayers.BnNode bn = found.nodes().get(n);
        BnLayer layer = found.layers().get(bn.layer());
        if (tensor == null || !hasChannels(tensor, layer)) {
          if (uncaptured.add(bn.layer())) {
            sink.notCaptured(bn.layer(), "its input " + name + " is " + (tensor == null
                ? "not a floating-point tensor" : "of shape " + Arrays.toString(tensor.shape()) + ", without "
                + layer.channels() + " channels on axis " + layer.channelAxis()));
          }
          continue;
        }
        if (uncaptured.contains(bn.layer())) {
          continue;
        }
        reached.computeIfAbsent(n, k -> new TrainingView.NodeInput(tensor.shape().length, elemType(ort, name, tensor)));
        int axis = layer.resolveChannelAxis(tensor.shape().length);
        if (wholeBatch) {
          sink.accept(bn.layer(), tensor, axis);
        } else {
          sink.acceptPart(bn.layer(), tensor, axis, batchSamples, endsBatch);
        }
      }
    }
  }

  /**
   * The largest model (without side files) whose self-check session opens beside the calibration
   * session: the second session holds the weights again while the first batches run (an outside
   * tester's model of 250 MB peaked at 3.0 GB, its twin of 272 MB opened after at 2.3 GB).
   */
  static final long SELF_CHECK_BESIDE_LIMIT = 128L << 20;

  /** What the self-check fetches: each BN node's input and output. */
  private static List<String> selfCheckFetches(OnnxBnLayers.Found found) {
    List<String> fetches = new ArrayList<>();
    for (OnnxBnLayers.BnNode bn : found.nodes()) {
      fetches.add(bn.node().inputs().get(0));
      fetches.add(bn.node().outputs().get(0));
    }
    return OrtRunner.distinct(fetches);
  }

  /**
   * Each captured node's output as ONNX Runtime computes it, against bncheck's from the same
   * input: {@code ort} runs a copy of the model with the BN inputs and outputs as graph outputs
   * ({@code fetches}, from {@link #selfCheckFetches}), once, on the first {@code count} samples (a
   * whole batch where the model fixes it). In training mode a node normalizes with that run's own
   * statistics, which are given to the sink.
   */
  private static void selfCheck(OrtRunner ort, OnnxBnLayers.Found found, List<String> fetches,
      List<OnnxInputs.Feed> feeds, int count, Set<Integer> uncaptured, String label, CalibrationSink sink) {
    List<OnnxBnLayers.BnNode> nodes = found.nodes();
    Map<String, Tensor> fetched = new LinkedHashMap<>();
    ort.run(feeds, 0, count, fetches, label, (name, tensor) -> {
      if (tensor != null) {
        fetched.put(name, tensor);
      }
    });
    for (OnnxBnLayers.BnNode bn : nodes) {
      BnLayer layer = found.layers().get(bn.layer());
      Tensor input = fetched.get(bn.node().inputs().get(0));
      Tensor output = fetched.get(bn.node().outputs().get(0));
      if (uncaptured.contains(bn.layer()) || input == null || output == null || !hasChannels(input, layer)) {
        continue;
      }
      int axis = layer.resolveChannelAxis(input.shape().length);
      if (bn.trainingMode()) {
        double[][] moments = channelMoments(input, axis, layer.channels());
        sink.frameworkStatistics(bn.layer(), moments[0], moments[1]);
      }
      sink.frameworkOutput(bn.layer(), layer, Slices.first(input, SELF_CHECK_SAMPLES),
          Slices.first(output, SELF_CHECK_SAMPLES), axis, bn.trainingMode(), ort.precisionOf(bn.node().outputs().get(0)));
    }
  }

  /** Per channel, the mean and the variance (divisor n) of the finite values: a training-mode node's batch statistics. */
  static double[][] channelMoments(Tensor t, int axis, int channels) {
    int[] shape = t.shape();
    int inner = 1;
    for (int d = axis + 1; d < shape.length; d++) {
      inner *= shape[d];
    }
    double[] sum = new double[channels];
    long[] n = new long[channels];
    int size = t.size();
    for (int i = 0; i < size; i++) {
      double x = t.get(i);
      if (Double.isFinite(x)) {
        int c = (i / inner) % channels;
        sum[c] += x;
        n[c]++;
      }
    }
    double[] mean = new double[channels];
    double[] m2 = new double[channels];
    for (int c = 0; c < channels; c++) {
      mean[c] = n[c] > 0 ? sum[c] / n[c] : Double.NaN;
    }
    for (int i = 0; i < size; i++) {
      double x = t.get(i);
      if (Double.isFinite(x)) {
        int c = (i / inner) % channels;
        m2[c] += (x - mean[c]) * (x - mean[c]);
      }
    }
    double[] variance = new double[channels];
    for (int c = 0; c < channels; c++) {
      variance[c] = n[c] > 0 ? m2[c] / n[c] : Double.NaN;
    }
    return new double[][] {mean, variance};
  }


  /** The training view on the batches of the inference view's data that start below the option's samples. */
  static void trainingView(Path input, byte[] bytes, OnnxProto.Model model, OnnxBnLayers.Found found,
      ExternalData external, Fed fed, LoadOptions options, CalibrationSink sink) {
    TrainingView.run(input.toString(), bytes, model, found, external, fed.feeds(), fed.batchSize(),
        Math.min(fed.samples(), wholeBatches(options.trainingViewSamples(), fed.batchSize())), fed.inputs(), options,
        fed.label(), sink);
  }

  /**
   * The samples one run takes: the requested batch size where every input's first dimension is
   * free, else the fixed first dimension (a model exported for batch size 1 runs one sample at a
   * time).
   */
  static int batchSize(List<OnnxInputs.Feed> feeds, int requested, long rows, String label) {
    int fixed = -1;
    for (OnnxInputs.Feed feed : feeds) {
      long[] dims = feed.input().dims();
      if (dims != null && dims.length > 0 && dims[0] > 0) {
        if (fixed > 0 && fixed != dims[0]) {
          throw new InvalidInputException(label, feed.input().name(), "the model's inputs fix different batch sizes, "
              + fixed + " and " + dims[0]);
        }
        fixed = (int) Math.min(dims[0], Integer.MAX_VALUE);
      }
    }
    if (fixed > 0 && rows < fixed) {
      throw new InvalidInputException(label, feeds.get(0).input().name(), "the model takes exactly " + fixed
          + " samples per run; the data holds " + rows);
    }
    return fixed > 0 ? fixed : (int) Math.max(1, Math.min(requested, rows));
  }

  /**
   * The samples one run takes: the whole batch where its captured bytes fit the budget, else the
   * most whole groups of the sink's that fit, at least one group.
   */
  static int partSamples(int batchSize, int samplesPerGroup, long bytesPerSample, long budget) {
    if (bytesPerSample <= 0 || bytesPerSample * batchSize <= budget || samplesPerGroup >= batchSize) {
      return batchSize;
    }
    long groups = Math.max(1, budget / bytesPerSample / samplesPerGroup);
    return (int) Math.min(batchSize, groups * samplesPerGroup);
  }

  /**
   * The names among {@code outputs} a node of the graph computes: ONNX Runtime writes those into
   * buffers given for them, but leaves a buffer given for a graph input or an initializer as it was.
   */
  static List<String> pinnable(OnnxProto.Graph graph, List<String> outputs) {
    Set<String> computed = new HashSet<>();
    graph.nodes().forEach(node -> computed.addAll(node.outputs()));
    return outputs.stream().filter(computed::contains).toList();
  }

  private static long bytesPerSample(Map<String, long[]> oneSampleShapes) {
    long bytes = 0;
    for (long[] shape : oneSampleShapes.values()) {
      long n = Float.BYTES;
      for (long d : shape) {
        n *= d;
      }
      bytes += n;
    }
    return bytes;
  }

  /** The ONNX element type of an output the run handed over as {@code tensor}. */
  private static int elemType(OrtRunner ort, String name, Tensor tensor) {
    if (tensor instanceof Tensor.Float64) {
      return OnnxProto.DOUBLE;
    }
    return switch (ort.precisionOf(name)) {
      case FLOAT16 -> OnnxProto.FLOAT16;
      case BFLOAT16 -> OnnxProto.BFLOAT16;
      case FLOAT32 -> OnnxProto.FLOAT;
    };
  }

  /** Samples up to the end of the batch holding sample {@code limit - 1}. */
  private static long wholeBatches(long limit, int batchSize) {
    return limit > Long.MAX_VALUE - batchSize ? Long.MAX_VALUE : (limit + batchSize - 1) / batchSize * batchSize;
  }

  static boolean hasChannels(Tensor t, BnLayer layer) {
    int axis = layer.resolveChannelAxis(t.shape().length);
    return t.shape().length >= 2 && axis >= 0 && t.shape()[axis] == layer.channels();
  }

  /** The graph's float outputs that hold one row per sample, when the batch dimension is free. */
  static List<String> batchedFloatOutputs(OnnxProto.Graph graph, List<OnnxInputs.Input> inputs) {
    if (inputs.isEmpty()) {
      return List.of();
    }
    return graph.outputs().stream()
        .filter(o -> (o.elemType() == OnnxProto.FLOAT || o.elemType() == OnnxProto.DOUBLE
            || o.elemType() == OnnxProto.FLOAT16) && (o.dims() == null || (o.dims().length > 0 && o.dims()[0] < 0)))
        .map(OnnxProto.ValueInfo::name).toList();
  }
}
