package dev.bncheck.load.tensorflow;

import dev.bncheck.load.Background;
import dev.bncheck.load.BatchOrder;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.array.GivenInputs;
import dev.bncheck.load.array.InputArray;
import dev.bncheck.load.array.WholeNumbers;
import dev.bncheck.load.array.InputPairing;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.load.array.SampleOrder;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Numbers;
import dev.bncheck.model.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.TensorFlow;
import org.tensorflow.ndarray.index.Index;
import org.tensorflow.ndarray.index.Indices;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TFloat32;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.ndarray.Shape;

/**
 * Runs a loaded graph on calibration data and captures what reaches every BN layer: directly
 * for nodes of the top-level graph, through the {@link FunctionInliner} for nodes inside
 * functions.
 */
final class ModelRunner {

  /** A model input: its key for the user, the graph tensor to feed, its dtype and shape. */
  record Input(String key, String tensor, DataType dtype, TensorShapeProto shape) {

    /**
     * Whether the tensor holds one row per sample along its first axis, as far as its declared
     * shape says: a scalar, a fixed first dimension (a time-major stack, per-class totals) or a
     * variable has no batch axis there to compare samples along (BN005).
     */
    boolean batched() {
      return shape.getUnknownRank() || (shape.getDimCount() > 0 && shape.getDim(0).getSize() < 0);
    }

    /** Whether the input takes a single value (rank 0): a mode flag or a rate, one value for every run. */
    boolean scalar() {
      return !shape.getUnknownRank() && shape.getDimCount() == 0;
    }
  }

  /**
   * The top-level nodes the run feeds one value for every batch, with that value: what fixes a
   * tf.cond predicate before anything runs. Empty when nothing runs on data or the run feeds inner
   * tensors ({@code --input-node}).
   */
  static Map<String, Double> perRunFeeds(List<Input> inputs, LoadOptions options) {
    if (!options.runsOnData() || !options.tensorFlow().inputNodes().isEmpty()) {
      return Map.of();
    }
    Map<String, Double> values = options.inputs().isEmpty() ? SyntheticInputs.perRunValues(inputs)
        : ModelInputs.perRunValues(options.inputs());
    Map<String, Double> byNode = new java.util.HashMap<>();
    for (Input input : inputs) {
      Double value = values.get(input.key());
      if (value != null) {
        byNode.put(GraphScope.Ref.parse(input.tensor()).node(), value);
      }
    }
    return byNode;
  }

  /** The dtypes of the inputs bncheck feeds. */
  private static final Set<DataType> FEEDABLE = EnumSet.of(DataType.DT_FLOAT, DataType.DT_DOUBLE, DataType.DT_INT32,
      DataType.DT_INT64, DataType.DT_UINT8, DataType.DT_UINT16, DataType.DT_BOOL, DataType.DT_HALF,
      DataType.DT_BFLOAT16);

  /** The values each integer or boolean input type holds, [min, max]. */
  private static final java.util.Map<DataType, double[]> RANGES = java.util.Map.of(
      DataType.DT_INT32, new double[] {Integer.MIN_VALUE, Integer.MAX_VALUE},
      DataType.DT_INT64, new double[] {-0x1p63, 0x1p63 - 1024},
      DataType.DT_UINT8, new double[] {0, 255},
      DataType.DT_UINT16, new double[] {0, 65535},
      DataType.DT_BOOL, new double[] {0, 1});

  /** Whether an input of this type takes whole numbers only (integers and booleans). */
  static boolean takesWholeNumbers(DataType dtype) {
    return RANGES.containsKey(dtype);
  }


  private final TfGraph tfGraph;
  private final Graph graph;
  private final CheckedSession session;
  /** The captures with the training view's ops, once {@link #trainingView} has added them. */
  private List<CalibrationRun.Capture> trainingViewCaptures;

  ModelRunner(TfGraph tfGraph, CheckedSession session) {
    this.tfGraph = tfGraph;
    this.graph = session.graph();
    this.session = session;
  }

  /**
   * The graph made ready to run: copies of what function-internal layers depend on are imported
   * once, and the captures of every layer are known.
   */
  record Prepared(List<CalibrationRun.Capture> captures, List<Input> inputs, FunctionInliner inliner,
      FunctionInliner training, Map<String, String> outputs, Map<Integer, String> notCaptured,
      List<MaskedSteps> masks, Optional<String> maskNote) {

    /**
     * The same captures of {@code layers}, the layers this was prepared for (same names, same
     * order) with other values: those read after the graph was prepared on declared shapes.
     */
    Prepared withLayers(List<BnLayer> layers) {
      List<CalibrationRun.Capture> updated = captures.stream().map(c -> {
        BnLayer layer = layers.get(c.layerIndex());
        if (!layer.name().equals(c.layer().name()) || layer.channels() != c.layer().channels()) {
          throw new IllegalStateException("layer " + c.layerIndex() + " was prepared as " + c.layer().name() + " ("
              + c.layer().channels() + " channels) and read as " + layer.name() + " (" + layer.channels() + ")");
        }
        return new CalibrationRun.Capture(c.layerIndex(), layer, c.input(), c.output(), c.trainingMode(),
            c.trainingViewInput(), c.batchStatistics(), c.inGraph());
      }).toList();
      return new Prepared(updated, inputs, inliner, training, outputs, notCaptured, masks, maskNote);
    }
  }

  /**
   * A Keras mask applied to the captures behind it: the kept steps, [samples, steps] of 1 and 0,
   * are fed at {@code placeholder} with every batch.
   */
  record MaskedSteps(KerasMask mask, String placeholder) {}

  /** The signature's float outputs that hold one row per sample: those compared for BN005. */
  static List<Input> batchedFloats(List<Input> outputs) {
    return outputs.stream()
        .filter(o -> (o.dtype() == DataType.DT_FLOAT || o.dtype() == DataType.DT_DOUBLE) && o.batched()).toList();
  }

  /**
   * The calibration data as the inference view fed it, for the training view.
   *
   * @param feeds the data in the order the inference view's batches took it
   */
  record Fed(List<Feed> feeds, int batchSize, String label) {}

  /**
   * The inference view: runs the model on the data, captures every layer's input and output,
   * and compares the float outputs ({@link #batchedFloats}, prepared with the graph) between a
   * batch and its samples run alone.
   */
  Fed inference(Prepared prepared, List<Input> floatOutputs, GivenInputs given, LoadOptions options,
      CalibrationSink sink) {
    prepared.notCaptured().forEach(sink::notCaptured);
    Map<String, InputArray> data = given.arrays();
    prepared.maskNote().ifPresent(sink::maskedSteps);
    long samples = InputArray.samples(data);
    if (samples >= 0) {
      sink.distinctSamples(Math.min(samples, options.maxSamples()), Math.min(given.distinctSamples(),
          options.maxSamples()));
    }
    String label = options.inputs().isEmpty() ? "--synthetic " + options.syntheticSamples()
        : String.join(" ", options.inputs());
    List<Feed> inFileOrder = feeds(prepared, data);
    List<Feed> feeds = options.batchOrder() == BatchOrder.SHUFFLED ? shuffled(inFileOrder) : inFileOrder;
    // an input that takes one sample at a time gives no batch to compare single samples with (BN005)
    int batchSize = Feed.batchSize(feeds, options.batchSize());
    Fed fed = new Fed(feeds, batchSize, label);
    if (prepared.captures().isEmpty()) {
      if (batchSize > 1) {
        BatchSizeProbe.measure(session, feeds, floatOutputs, batchSize, sink, label);
      }
      return fed;
    }
    // The signature's outputs come from the same graph as the captures, in the same first batch:
    // running the serving function as well would repeat the forward pass.
    List<Input> runnable = floatOutputs.stream().map(o -> new Input(o.key(), prepared.outputs().get(o.key()),
        o.dtype(), o.shape())).toList();
    CalibrationRun.Plan plan = new CalibrationRun.Plan(prepared.captures(), batchSize > 1 ? runnable : List.of(),
        batchSize, options.maxSamples(), CalibrationRun.Plan.Pass.INFERENCE_VIEW, CalibrationRun.Plan.Use.JUDGED);
    List<Tensor> firstBatch = CalibrationRun.run(session, feeds, plan, sink, label);
    if (batchSize > 1) {
      BatchSizeProbe.measure(session, feeds, runnable, firstBatch, sink, label);
    }
    return fed;
  }

  /** Whether some layer's input can be captured in the training-mode copy of the graph. */
  static boolean offersTrainingView(Prepared prepared) {
    return prepared.captures().stream().anyMatch(c -> c.trainingViewInput() != null);
  }

  /**
   * The training view, on the batches of the inference view's data that start below
   * {@link LoadOptions#trainingViewSamples()}. It runs in a pass of its own: fetched in the same
   * runs as the inference view, ResNet-50's check took 1.67x the forward pass instead of 1.59x,
   * and 2.5 GB instead of 2.0 (docs/performance.md).
   */
  void trainingView(Prepared prepared, Fed fed, LoadOptions options, CalibrationSink sink) {
    // The training view runs on the first samples only: they must be a sample of the whole file
    // even when the user keeps the file's order for the inference view's batches (a file sorted
    // by class would otherwise give the training view one class: BN003 false errors)
    List<CalibrationRun.Capture> captures = trainingViewCaptures(prepared);
    // fed again by name now that the training view's copy of each input is in the graph
    List<Feed> copies = fed.feeds().stream().map(f -> new Feed(fedTensors(prepared, f.graphTensors().get(0)),
        f.data(), f.dtype(), f.batching(), f.order())).toList();
    List<Feed> trainingFeeds = options.batchOrder() == BatchOrder.SHUFFLED ? copies : shuffled(copies);
    CalibrationRun.run(session, trainingFeeds, new CalibrationRun.Plan(captures, List.of(),
        fed.batchSize(), Math.min(options.maxSamples(), wholeBatches(options.trainingViewSamples(),
        fed.batchSize())), CalibrationRun.Plan.Pass.TRAINING_VIEW, CalibrationRun.Plan.Use.JUDGED), sink, fed.label());
  }

  /**
   * The captures with the training view's ops: its copy of the graph imported and its reductions
   * added beside it, on the first call. Added only when the training view runs: most checks never
   * run it, and for ResNet-50 its copy and ops took 0.2 s to add and made every safety check of
   * the inference view's runs read a larger graph (issue #19).
   */
  private List<CalibrationRun.Capture> trainingViewCaptures(Prepared prepared) {
    if (trainingViewCaptures == null) {
      GraphDef copy = prepared.training().graphDef();
      if (copy.getNodeCount() > 0) {
        session.importGraphDef(copy);
      }
      Ops tf = Ops.create(graph).withSubScope("bncheck_training_view");
      trainingViewCaptures = prepared.captures().stream().map(c -> withTrainingViewReductions(tf, c)).toList();
    }
    return trainingViewCaptures;
  }

  /** Samples up to the end of the batch holding sample {@code limit - 1}: the batches that start below it. */
  private static long wholeBatches(long limit, int batchSize) {
    return limit > Long.MAX_VALUE - batchSize ? Long.MAX_VALUE : (limit + batchSize - 1) / batchSize * batchSize;
  }

  /** Prepares the graph for captures; call once per loaded graph. */
  Prepared prepare(LayerAssembler.Layers layers, List<Input> inputs) {
    return prepare(layers, inputs, List.of(), Map.of());
  }

  /**
   * The shapes for the graph's copy to give the inputs whose rank the graph does not declare:
   * the data's, its first axis (the samples) left free. TensorFlow's shape inference then checks
   * the copy against the data as it is imported: fed data of another rank than its convolution
   * takes, TensorFlow's kernel aborted the process on a failed CHECK (an outside tester's find).
   * The data is waited for only where some input does not declare its rank.
   *
   * @param given the data being read, or null where there is none yet
   */
  static Map<Input, long[]> undeclaredRanks(List<Input> inputs, CompletableFuture<GivenInputs> given) {
    if (given == null || inputs.stream().noneMatch(i -> i.shape().getUnknownRank())) {
      return Map.of();
    }
    Map<Input, long[]> shapes = new LinkedHashMap<>();
    for (var e : match(inputs, Background.joined(given).arrays()).entrySet()) {
      if (e.getKey().shape().getUnknownRank() && e.getValue().batching() == Feed.Batching.BATCHES) {
        long[] shape = Arrays.stream(e.getValue().data().shape()).asLongStream().toArray();
        shape[0] = -1;
        shapes.put(e.getKey(), shape);
      }
    }
    return shapes;
  }

  /**
   * Prepares the graph for captures and for fetching {@code outputs} in the same runs, the copy's
   * placeholders of the given top-level inputs declared with the given shapes
   * ({@link #undeclaredRanks}); call once per loaded graph.
   */
  Prepared prepare(LayerAssembler.Layers layers, List<Input> inputs, List<Input> outputs,
      Map<Input, long[]> inputShapes) {
    var ops = TensorFlow.registeredOpList();
    FunctionInliner inliner = new FunctionInliner(tfGraph, ops, layers.takenBranches());
    FunctionInliner training = FunctionInliner.trainingView(tfGraph, ops,
        layers.nodesPerLayer().stream().flatMap(List::stream).toList(), layers.takenBranches());
    List<CalibrationRun.Capture> captures = new ArrayList<>();
    Map<Integer, String> notCaptured = new LinkedHashMap<>();
    KerasMask.Detection detected = KerasMask.detect(tfGraph, inputs, session.location(),
        layers.nodesPerLayer().stream().flatMap(List::stream).toList());
    // the node each layer is captured at: its inference-mode copy where it has one
    List<BnNode> captured = layers.nodesPerLayer().stream()
        .map(copies -> copies.stream().filter(n -> !n.training()).findFirst().orElse(copies.get(0))).toList();
    Map<KerasMask, Set<Integer>> reachedBy = new HashMap<>();
    detected.masks().forEach(m -> reachedBy.put(m, m.reached(captured)));
    Map<Integer, KerasMask> masked = new HashMap<>();
    for (int i = 0; i < layers.layers().size(); i++) {
      BnNode node = captured.get(i);
      if (node.context().caller() == null && tfGraph.insideLoweredLoops().contains(GraphScope.Ref.parse(node.output())
          .node())) {
        notCaptured.put(i, "inside a lowered tf.while_loop, which runs it once per iteration: nothing outside the"
            + " loop can fetch it");
        continue;
      }
      int layer = i;
      List<KerasMask> reaching = detected.masks().stream().filter(m -> reachedBy.get(m).contains(layer)).toList();
      if (reaching.size() > 1) {
        notCaptured.put(i, "behind the Keras masks of several inputs, which leave out different steps");
        continue;
      }
      if (reaching.size() == 1) {
        masked.put(i, reaching.get(0));
      }
      try {
        String in = flat(inliner, node, node.input());
        String out = flat(inliner, node, node.output());
        captures.add(new CalibrationRun.Capture(i, layers.layers().get(i), in, out, node.training(),
            trainingViewInput(training, node), node.training() ? batchStatistics(inliner, node) : null, null));
      } catch (FunctionInliner.Unsupported e) {
        // The layer keeps its static checks; its data checks say why it has no calibration data.
        notCaptured.put(i, e.getMessage());
      }
    }
    Map<String, String> runnableOutputs = new LinkedHashMap<>();
    for (Input output : outputs) {
      runnableOutputs.put(output.key(), runnableOutput(inliner, output.tensor()));
    }
    GraphDef flat = inliner.graphDef();
    if (flat.getNodeCount() > 0) {
      importDeclaring(session, flat, inputShapes, input -> inliner.feed(input.tensor()));
    }
    // One scope for all: every new sub-scope reads the name of every node in the graph
    // (4.8 s for ResNet-50's 53 layers when each layer had its own)
    Ops tf = Ops.create(graph).withSubScope("bncheck_statistics");
    Map<KerasMask, Operand<TFloat32>> kept = new LinkedHashMap<>();
    for (KerasMask m : detected.masks()) {
      if (masked.containsValue(m)) {
        kept.put(m, tf.withName("kept_steps_" + kept.size()).placeholder(TFloat32.class,
            Placeholder.shape(Shape.of(-1, m.steps()))));
      }
    }
    List<CalibrationRun.Capture> reduced = new ArrayList<>();
    for (CalibrationRun.Capture c : captures) {
      KerasMask m = masked.get(c.layerIndex());
      Optional<String> keptRows = m == null ? Optional.empty() : keptRows(tf, c, kept.get(m), m.steps(), notCaptured);
      CalibrationRun.Capture capture = notCaptured.containsKey(c.layerIndex()) ? null
          : withInGraphReductions(tf, c, keptRows, kept.isEmpty());
      if (capture != null) {
        reduced.add(capture);
      } else if (!notCaptured.containsKey(c.layerIndex())) {
        notCaptured.put(c.layerIndex(), "behind a Keras mask, in a type whose statistics bncheck takes in the graph"
            + " only for float32 and float64");
      }
    }
    List<MaskedSteps> applied = kept.entrySet().stream().map(e -> new MaskedSteps(e.getKey(), name(e.getValue())))
        .toList();
    Optional<String> maskNote = detected.notApplied() != null
        ? Optional.of(KerasMask.describeNotApplied(detected.notApplied()))
        : applied.isEmpty() ? Optional.empty() : Optional.of(KerasMask.describe(kept.keySet()));
    return new Prepared(reduced, inputs, inliner, training, runnableOutputs, notCaptured, applied, maskNote);
  }

  /**
   * Imports {@code graphDef} into the session, the placeholders of the given inputs declared with
   * the given shapes ({@link #undeclaredRanks}); data that TensorFlow's shape inference then
   * refuses is an error about the data.
   *
   * @param placeholder the tensor in {@code graphDef} that an input is fed at
   */
  static void importDeclaring(CheckedSession session, GraphDef graphDef, Map<Input, long[]> inputShapes,
      Function<Input, String> placeholder) {
    if (inputShapes.isEmpty()) {
      session.importGraphDef(graphDef);
      return;
    }
    GraphDef.Builder declared = graphDef.toBuilder();
    for (var e : inputShapes.entrySet()) {
      String node = GraphScope.Ref.parse(placeholder.apply(e.getKey())).node();
      TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
      for (long size : e.getValue()) {
        shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(size));
      }
      for (NodeDef.Builder n : declared.getNodeBuilderList()) {
        if (n.getName().equals(node) && n.getOp().equals("Placeholder")) {
          n.putAttr("shape", AttrValue.newBuilder().setShape(shape).build());
        }
      }
    }
    try {
      session.importGraphDef(declared.build());
    } catch (InvalidInputException e) {
      String given = inputShapes.entrySet().stream().map(i -> i.getKey().key() + " " + Arrays.toString(i.getValue())
          .replace("-1", "samples")).collect(Collectors.joining(", "));
      throw new InvalidInputException("--inputs", "", "the data (" + given + ") does not fit the model, whose input"
          + " does not declare its rank: " + TensorFlowRuntime.firstLine(
              e.getCause() == null ? e.getMessage() : e.getCause().getMessage()), e);
    }
  }

  /**
   * The rows of a layer's input at the steps the mask keeps, [kept steps, channels], where the
   * input is [batch, steps, channels] with the mask's steps; empty for a layer the mask does not
   * reach. A layer behind the mask that normalizes another axis is not captured: Keras leaves its
   * masked steps out, and those values cannot be told apart in a flat copy.
   */
  private Optional<String> keptRows(Ops tf, CalibrationRun.Capture c, Operand<TFloat32> kept, int steps,
      Map<Integer, String> notCaptured) {
    GraphScope.Ref ref = GraphScope.Ref.parse(c.input());
    Output<?> x = graph.operation(ref.node()).output(ref.index());
    Shape shape = x.shape();
    if (shape.numDimensions() != 3 || (shape.get(1) >= 0 && steps >= 0 && shape.get(1) != steps)) {
      return Optional.empty();
    }
    if (c.layer().resolveChannelAxis(3) != 2 || c.layer().resolveChannelAxis(2) != 1 || shape.get(2) < 0) {
      notCaptured.put(c.layerIndex(), "behind a Keras mask, normalizing another axis than the last: the steps Keras"
          + " leaves out of its statistics cannot be left out here");
      return Optional.empty();
    }
    Operand<?> rows = tf.reshape(x, tf.constant(new long[] {-1, shape.get(2)}));
    Operand<TInt64> keptIndices = tf.reshape(tf.where(tf.math.greater(tf.reshape(kept, tf.constant(new long[] {-1})),
        tf.constant(0.5f))), tf.constant(new long[] {-1}));
    return Optional.of(name(tf.gather(rows, keptIndices, tf.constant(0))));
  }

  private static String name(Operand<?> operand) {
    return operand.op().name() + ":" + operand.asOutput().index();
  }

  /**
   * Captures the given layers only, on the given data, without the training view, every
   * reduction in two passes: these statistics are written into a model (recalibrate).
   */
  void capture(Prepared prepared, Map<String, Tensor> data, java.util.Set<Integer> layers, int batchSize,
      CalibrationSink sink, String label) {
    List<CalibrationRun.Capture> wanted = prepared.captures().stream()
        .filter(c -> layers.contains(c.layerIndex()))
        .toList();
    if (!wanted.isEmpty()) {
      List<Feed> feeds = feeds(prepared, InputArray.numbers(data));
      CalibrationRun.run(session, feeds, new CalibrationRun.Plan(wanted, List.of(),
          Feed.batchSize(feeds, batchSize), Long.MAX_VALUE, CalibrationRun.Plan.Pass.INFERENCE_VIEW,
          CalibrationRun.Plan.Use.WRITTEN), sink, label);
    }
  }

  /** The first float output's argmax per sample, {@code batchSize} samples at a time. */
  dev.bncheck.load.Predictions predictions(Prepared prepared, Map<String, Tensor> data, List<Input> outputs,
      int batchSize) {
    Input first = outputs.stream().filter(o -> o.dtype() == DataType.DT_FLOAT || o.dtype() == DataType.DT_DOUBLE)
        .findFirst().orElseThrow(() -> new InvalidInputException("--labels", "", "the model has no float output"));
    List<Feed> feeds = feeds(prepared, InputArray.numbers(data));
    return ClassPredictions.of(session, feeds, first, Feed.batchSize(feeds, batchSize), "--inputs");
  }

  /** Compares the signature's float outputs between a batch and its samples alone. */
  void batchSizeConsistency(Prepared prepared, Map<String, Tensor> data, List<Input> outputs, int batchSize,
      CalibrationSink sink) {
    List<Input> floats = batchedFloats(outputs);
    List<Feed> feeds = feeds(prepared, InputArray.numbers(data));
    int size = Feed.batchSize(feeds, batchSize);
    if (size > 1) {
      BatchSizeProbe.measure(session, feeds, floats, size, sink, "--inputs");
    }
  }

  /**
   * The feeds with their samples in {@link SampleOrder}'s fixed pseudo-random order, read in place;
   * as they are where the inputs list different numbers of samples (refused where they are matched).
   */
  private static List<Feed> shuffled(List<Feed> feeds) {
    List<Feed> batched = feeds.stream().filter(f -> f.batching() != Feed.Batching.PER_RUN).toList();
    if (batched.isEmpty() || batched.stream().anyMatch(f -> f.data().shape()[0] != batched.get(0).data().shape()[0])) {
      return feeds;
    }
    int[] order = SampleOrder.permutation(batched.get(0).data().shape()[0]);
    return feeds.stream().map(f -> f.batching() == Feed.Batching.PER_RUN ? f : f.inOrder(order)).toList();
  }

  /** Each model input's data, fed to the original tensor and to its copies. */
  private List<Feed> feeds(Prepared prepared, Map<String, InputArray> data) {
    List<Feed> feeds = new ArrayList<>();
    for (var e : match(prepared.inputs(), data).entrySet()) {
      Input input = e.getKey();
      feeds.add(new Feed(fedTensors(prepared, input.tensor()), e.getValue().data(), input.dtype(),
          e.getValue().batching(), null));
      for (MaskedSteps masked : prepared.masks()) {
        if (masked.mask().input().equals(input) && e.getValue().data() instanceof InputArray.Numbers numbers
            && e.getValue().batching() == Feed.Batching.BATCHES) {
          feeds.add(new Feed(List.of(masked.placeholder()), new InputArray.Numbers(masked.mask().keptSteps(
              numbers.tensor())), DataType.DT_FLOAT, Feed.Batching.BATCHES, null));
        }
      }
    }
    return feeds;
  }

  /**
   * A top-level tensor and those of its copies (the inlined one, the training view's) that are in
   * the graph so far: what a feed of it feeds.
   */
  private List<String> fedTensors(Prepared prepared, String tensor) {
    List<String> names = new ArrayList<>(List.of(tensor));
    for (String copy : List.of(prepared.inliner().feed(tensor), prepared.training().feed(tensor))) {
      if (graph.operation(GraphScope.Ref.parse(copy).node()) != null) {
        names.add(copy);
      }
    }
    return names;
  }

  /** A tensor of the node's context as the flat graph names it. */
  private static String flat(FunctionInliner inliner, BnNode node, String reference) {
    return node.context().caller() == null ? topLevelTensor(reference) : inliner.tensor(node.context(), reference);
  }

  /**
   * The batch statistics a training-mode node normalizes with, as TensorFlow computed them: a
   * fused node's reserve_space_1 and reserve_space_2 outputs (on the CPU, the batch mean and the
   * variance with divisor n; batch_mean and batch_variance are the updated moving averages when
   * exponential_avg_factor is below 1), or the tensors the decomposed pattern reads.
   */
  private static CalibrationRun.BatchStatistics batchStatistics(FunctionInliner inliner, BnNode node) {
    BnNode.StatisticsReaders readers = node.statistics();
    if (readers == null) {
      String fused = GraphScope.Ref.parse(node.output()).node();
      return new CalibrationRun.BatchStatistics(flat(inliner, node, fused + ":3"), flat(inliner, node, fused + ":4"));
    }
    GraphScope scope = node.context().scope();
    String mean = OriginTracer.dataInputs(scope.node(readers.meanReader())).get(readers.meanInput());
    String variance = OriginTracer.dataInputs(scope.node(readers.varianceReader())).get(readers.varianceInput());
    return new CalibrationRun.BatchStatistics(flat(inliner, node, mean), flat(inliner, node, variance));
  }

  /**
   * The output as computed by the flat copy when a function call returns it (a Keras serving
   * signature), so that fetching it runs no second forward pass beside the captures; otherwise
   * the tensor itself.
   */
  private String runnableOutput(FunctionInliner inliner, String output) {
    GraphScope.Ref ref = GraphScope.Ref.parse(output);
    var node = tfGraph.topLevel().node(ref.node());
    if (node != null && tfGraph.calledFunction(node) != null) {
      try {
        return inliner.tensor(CallContext.root(tfGraph.topLevel()), output);
      } catch (FunctionInliner.Unsupported e) {
        // fetched from the serving function itself: correct, one more forward pass on the first batch
      }
    }
    return topLevelTensor(output);
  }

  /**
   * The capture with ops added to the graph that reduce its tensors where they are computed.
   *
   * @param keptRows the rows of the input a Keras mask keeps, to take the statistics of instead
   *     of the whole input
   * @param withTrainingView whether to capture the training view: not behind a Keras mask, where the
   *     training-mode copy normalizes every masked layer with every step, and so every layer after
   *     it with what Keras never computed (an outside tester's healthy model got BN003 errors there)
   * @return the capture, or null for a layer behind a Keras mask whose kept rows cannot be
   *     reduced in the graph
   */
  private CalibrationRun.Capture withInGraphReductions(Ops tf, CalibrationRun.Capture c, Optional<String> keptRows,
      boolean withTrainingView) {
    String judged = keptRows.orElse(c.input());
    String trainingViewTensor = withTrainingView ? c.trainingViewInput() : null;
    String input = identity(tf, judged);
    Optional<InGraphMoments> moments = InGraphMoments.add(graph, tf, judged, c.layer());
    if (moments.isEmpty() && keptRows.isPresent()) {
      // the kept rows reduced in Java would leave the self-check no input of the node's shape
      return null;
    }
    if (moments.isEmpty()) {
      return new CalibrationRun.Capture(c.layerIndex(), c.layer(), input, c.output(), c.trainingMode(),
          trainingViewTensor, c.batchStatistics(), null);
    }
    GraphScope.Ref ref = GraphScope.Ref.parse(c.input());
    int rank = graph.operation(ref.node()).output(ref.index()).shape().numDimensions();
    int channelAxis = c.layer().resolveChannelAxis(rank);
    // the output has the input's shape; the graph may not know its rank (a parameter of unknown
    // shape leaves the broadcast's unknown)
    return new CalibrationRun.Capture(c.layerIndex(), c.layer(), input, c.output(), c.trainingMode(),
        trainingViewTensor, c.batchStatistics(), new CalibrationRun.InGraph(moments.get(), null,
            firstSamples(tf, c.input(), rank, channelAxis), firstSamples(tf, c.output(), rank, channelAxis)));
  }

  /**
   * The capture with its training view's input fetched through an Identity, and reduced in the
   * graph where its inference view's input is; the capture itself where it has no training view.
   */
  private CalibrationRun.Capture withTrainingViewReductions(Ops tf, CalibrationRun.Capture c) {
    if (c.trainingViewInput() == null) {
      return c;
    }
    String input = identity(tf, c.trainingViewInput());
    CalibrationRun.InGraph inGraph = c.inGraph() == null ? null : new CalibrationRun.InGraph(c.inGraph().input(),
        InGraphMoments.add(graph, tf, c.trainingViewInput(), c.layer()).orElse(null), c.inGraph().inputSample(),
        c.inGraph().outputSample());
    return new CalibrationRun.Capture(c.layerIndex(), c.layer(), c.input(), c.output(), c.trainingMode(), input,
        c.batchStatistics(), inGraph);
  }

  /**
   * The tensor through an Identity, to fetch whole: TensorFlow refuses to fetch a tensor that is
   * also fed, which a layer normalizing the model's input directly reads.
   */
  private String identity(Ops scope, String tensor) {
    GraphScope.Ref ref = GraphScope.Ref.parse(tensor);
    return scope.identity(graph.operation(ref.node()).output(ref.index())).op().name() + ":0";
  }

  /**
   * Ops giving the first {@link CalibrationRun#SELF_CHECK_SAMPLES} samples of a tensor, every
   * channel, and the first {@link CalibrationRun#SELF_CHECK_POSITIONS} positions along each other
   * axis. The self-check compares value by value, so a corner of each feature map tests the same
   * arithmetic as the whole; the whole maps of ResNet-50's 53 layers on two samples were 21
   * million values, 170 MB held in TensorFlow and in Java through the first batch. {@code rank} is
   * the tensor's, which the graph may not know.
   */
  private String firstSamples(Ops scope, String tensor, int rank, int channelAxis) {
    GraphScope.Ref ref = GraphScope.Ref.parse(tensor);
    Output<?> x = graph.operation(ref.node()).output(ref.index());
    Index[] corner = new Index[rank];
    for (int d = 0; d < corner.length; d++) {
      corner[d] = d == 0 ? Indices.sliceTo(CalibrationRun.SELF_CHECK_SAMPLES)
          : d == channelAxis ? Indices.all() : Indices.sliceTo(CalibrationRun.SELF_CHECK_POSITIONS);
    }
    // A slice can share the whole batch's buffer: fetched as it is, it kept every layer's input
    // and output of the first batch alive (2.9 GB on ResNet-50)
    return scope.deepCopy(scope.stridedSlice(x, corner)).op().name() + ":0";
  }

  /** The layer's input in the training-mode copy, or null where the graph cannot be copied so. */
  private static String trainingViewInput(FunctionInliner training, BnNode node) {
    try {
      return training.tensor(node.context(), node.input());
    } catch (FunctionInliner.Unsupported e) {
      return null;
    }
  }

  /** An input's data and how its samples are fed. */
  private record Matched(InputArray data, Feed.Batching batching) {}

  /**
   * Pairs each model input with its data, checking names, dtypes and shapes. The data's first
   * axis lists the samples: it is the input's own first axis where the ranks are equal, and an
   * axis the input does not have where the data has one more (each sample is then fed alone, as
   * a WAV file's bytes to a scalar string input). A string input of unknown rank takes one
   * string per sample, as decoding ops want.
   */
  private static Map<Input, Matched> match(List<Input> inputs, Map<String, InputArray> data) {
    Optional<Input> scalar = inputs.stream().filter(Input::scalar).findFirst();
    Map<Input, InputArray> paired = InputPairing.pair(inputs, Input::key, data,
        scalar.map(s -> ", a single value as NAME=VALUE (" + s.key() + "="
            + (s.dtype() == DataType.DT_BOOL ? "false" : "1") + ")").orElse(""));
    Map<Input, Matched> out = new LinkedHashMap<>();
    long samples = -1;
    for (var e : paired.entrySet()) {
      Input input = e.getKey();
      InputArray t = e.getValue();
      boolean strings = input.dtype() == DataType.DT_STRING;
      if (!strings && !FEEDABLE.contains(input.dtype())) {
        throw new InvalidInputException("--inputs", input.key(), "the model takes " + input.dtype()
            + "; bncheck can feed float32, float64, int32, int64 and string inputs");
      }
      if (strings != t instanceof InputArray.Strings) {
        throw new InvalidInputException("--inputs", input.key(), "the model takes " + input.dtype()
            + ", the data holds " + t.dtype() + (strings ? " (give files as @FILE, or an .npy of dtype S or U)" : ""));
      }
      int[] shape = t.shape();
      List<TensorShapeProto.Dim> dims = input.shape().getDimList();
      boolean unknownRank = input.shape().getUnknownRank();
      Feed.Batching batching;
      boolean fits;
      if (shape.length == 0) {
        // one value for every run: only an input that takes a single value can take it
        batching = Feed.Batching.PER_RUN;
        fits = unknownRank || dims.isEmpty();
      } else if (unknownRank) {
        batching = strings && shape.length == 1 ? Feed.Batching.UNBATCHED : Feed.Batching.BATCHES;
        fits = true;
      } else if (dims.size() == shape.length - 1) {
        batching = Feed.Batching.UNBATCHED;
        fits = true;
        for (int d = 0; fits && d < dims.size(); d++) {
          fits = dims.get(d).getSize() < 0 || dims.get(d).getSize() == shape[d + 1];
        }
      } else {
        batching = !dims.isEmpty() && dims.get(0).getSize() == 1
            ? Feed.Batching.ONE : Feed.Batching.BATCHES;
        fits = dims.size() == shape.length;
        for (int d = 1; fits && d < dims.size(); d++) {
          fits = dims.get(d).getSize() < 0 || dims.get(d).getSize() == shape[d];
        }
      }
      if (!fits) {
        throw new InvalidInputException("--inputs", input.key(), "data of shape " + Arrays.toString(shape)
            + " does not fit the model's input of shape " + describe(dims)
            + " (the data's first axis lists the samples)");
      }
      if (batching != Feed.Batching.PER_RUN) {
        if (shape[0] == 0) {
          throw new InvalidInputException("--inputs", input.key(), "holds no samples (shape "
              + Arrays.toString(shape) + "); calibration needs at least one");
        }
        if (samples >= 0 && shape[0] != samples) {
          throw new InvalidInputException("--inputs", input.key(),
              shape[0] + " samples, but another input has " + samples);
        }
        samples = shape[0];
      }
      if (RANGES.containsKey(input.dtype())) {
        requireWholeNumbers(input, ((InputArray.Numbers) t).tensor(), RANGES.get(input.dtype()));
      }
      out.put(input, new Matched(t, batching));
    }
    if (samples < 0 && !out.isEmpty()) {
      throw new InvalidInputException("--inputs", "", "every input is given a single value; calibration needs"
          + " samples: give at least one input as an array whose first axis lists them");
    }
    return out;
  }

  /** An integer or boolean input takes whole numbers within its type's range, held exactly ({@link WholeNumbers}). */
  private static void requireWholeNumbers(Input input, Tensor t, double[] range) {
    WholeNumbers.misfit(t, range[0], range[1]).ifPresent(why -> {
      throw new InvalidInputException("--inputs", input.key(), "the model takes " + input.dtype() + ", but " + why);
    });
  }

  private static String describe(List<TensorShapeProto.Dim> dims) {
    return dims.stream().map(d -> d.getSize() < 0 ? "?" : String.valueOf(d.getSize())).toList().toString();
  }

  private static String topLevelTensor(String reference) {
    GraphScope.Ref ref = GraphScope.Ref.parse(reference);
    return ref.node() + ":" + ref.index();
  }
}
