package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.array.InputArray;
import dev.bncheck.model.BatchMoments;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BatchSizeComparison;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Precision;
import dev.bncheck.model.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint16;
import org.tensorflow.types.TUint8;

/**
 * Runs calibration batches through a model and streams, for every layer, the moments of the
 * tensor that reaches it (computed inside the graph, or from the whole tensor where that is not
 * possible) and, for the self-check, TensorFlow's own output of its node on the first samples.
 * Only TensorFlow holds a batch's activations.
 */
final class CalibrationRun {

  /**
   * What to fetch for one layer.
   *
   * @param trainingViewInput the layer's input when every BN layer runs in training mode, or null
   *     where the graph cannot be run that way
   * @param batchStatistics for a node in training mode, the statistics it normalizes with; null
   *     otherwise, or where they cannot be found
   * @param inGraph the reductions added to the graph for this layer, or null where the whole
   *     tensors are fetched and reduced in Java
   */
  record Capture(int layerIndex, BnLayer layer, String input, String output, boolean trainingMode,
      String trainingViewInput, BatchStatistics batchStatistics, InGraph inGraph) {}

  /**
   * The batch mean and variance (divisor n) a training-mode node normalizes with, as TensorFlow
   * computes them.
   */
  record BatchStatistics(String mean, String variance) {}

  /**
   * Ops added next to a layer's node: the moments of its input (and of the training view's copy
   * of it, or null), and its input and output on the first samples of a batch for the self-check.
   */
  record InGraph(InGraphMoments input, InGraphMoments trainingView, String inputSample, String outputSample) {}

  /** Samples of the first batch whose outputs are compared with TensorFlow's; every channel is in each. */
  static final int SELF_CHECK_SAMPLES = 2;

  /** How an input takes the samples along its data's first axis. */
  enum Batching {
    /** In batches: the data's first axis is the input's. */
    BATCHES,
    /** One sample per run, keeping the first axis: the input's first dimension is fixed at 1. */
    ONE,
    /** One sample per run without the first axis: the input has none (a WAV file's bytes, a scalar). */
    UNBATCHED,
    /** The same value with every run: a scalar that lists no samples, such as a mode flag or a rate. */
    PER_RUN
  }

  /**
   * One model input: where to feed it, its data, the dtype the graph takes (float32, float64, int32,
   * int64 or string; integer data has been checked to hold whole numbers that float32 keeps exact)
   * and how its samples are fed.
   */
  record Feed(List<String> graphTensors, InputArray data, DataType dtype, Batching batching) {}

  /** The samples the feeds list: those of the first that is not fed {@linkplain Batching#PER_RUN per run}; 1 when none lists any. */
  static int samples(List<Feed> feeds) {
    return feeds.stream().filter(f -> f.batching() != Batching.PER_RUN).findFirst()
        .map(f -> f.data().shape()[0]).orElse(1);
  }

  /** The samples one run feeds: {@code requested}, or one where an input takes one sample at a time. */
  static int batchSize(List<Feed> feeds, int requested) {
    return feeds.stream().allMatch(f -> f.batching() == Batching.BATCHES || f.batching() == Batching.PER_RUN)
        ? requested : 1;
  }

  private CalibrationRun() {}

  /**
   * What a pass of calibration runs fetches, and on how many samples.
   *
   * @param outputs model outputs fetched with the first batch (inference view only)
   * @param trainingView the training view's inputs instead of the inference view's; the self-check
   *     runs with the inference view
   * @param twoPassesOnly every in-graph reduction in two passes, as precise as the data itself
   *     whatever the mean: for statistics that are written into a model, not only judged
   */
  record Plan(List<Capture> captures, List<ModelRunner.Input> outputs, int batchSize, long maxSamples,
      boolean trainingView, boolean twoPassesOnly) {}

  /**
   * What one batch run fetches.
   *
   * @param selfCheck the layers' inputs and outputs on the first samples, for the self-check
   * @param wholeTensors every input whole, to reduce in Java, in-graph moments or not
   */
  private record Fetch(boolean trainingView, boolean selfCheck, boolean wholeTensors,
      List<ModelRunner.Input> outputs) {

    Fetch wholeTensorsInstead() {
      return new Fetch(trainingView, selfCheck, true, outputs);
    }
  }

  /**
   * Why a run failed. Random samples fit the declared shapes only: inputs that must agree with
   * each other (a ragged tensor's values and row splits, ids and their lengths) make the model
   * fail on them, which is the synthetic data's fault, not the model's or the user's.
   */
  static String cannotRun(String dataLabel, org.tensorflow.exceptions.TensorFlowException e) {
    String why = TensorFlowRuntime.firstLine(e.getMessage());
    if (why.contains("only supports the NHWC tensor format on the CPU")) {
      // not the data's fault: the CPU kernels without oneDNN refuse channels-first layouts
      return "the model cannot run on this CPU without oneDNN: " + why + " (set TF_ENABLE_ONEDNN_OPTS=1, as"
          + " bin/bncheck does, to run channels-first models)";
    }
    return "the model cannot run on this data: " + why
        + (dataLabel.startsWith("--synthetic") && !why.startsWith("You must feed")
            ? " (random samples fit the declared shapes only; inputs that must agree with each other, as a ragged"
                + " tensor's parts do, need real data: give it with --inputs)" : "");
  }

  /** Runs the calibration batches; returns the plan's outputs on the first batch. */
  static List<Tensor> run(CheckedSession session, List<Feed> feeds, Plan plan, CalibrationSink sink, String dataLabel) {
    int batchSize = plan.batchSize();
    List<Tensor> firstOutputs = new ArrayList<>();
    // a graph with nothing to feed (constants all the way, as in TensorFlow's import tests)
    // computes one batch of its own: it runs once, as it is
    long samples = Math.min(plan.maxSamples(), samples(feeds));
    long batches = (samples + batchSize - 1) / batchSize;
    // the in-graph reductions that lost too many digits in one pass, by layer and view; once
    // found, they stay in two passes for the later batches
    Set<String> twoPasses = new HashSet<>();
    if (plan.twoPassesOnly()) {
      for (Capture c : plan.captures()) {
        twoPasses.add(inferenceKey(c));
        twoPasses.add(trainingKey(c));
      }
    }
    for (long start = 0; start < samples; start += batchSize) {
      sink.progress(plan.trainingView() ? "training view batches" : "calibration batches", start / batchSize,
          batches);
      int count = (int) Math.min(batchSize, samples - start);
      // TensorFlow's own outputs are compared on the first batch only: one batch exercises every
      // channel, and the comparison runs in Java on whole tensors.
      boolean first = start == 0 && !plan.trainingView();
      Fetch fetch = new Fetch(plan.trainingView(), first, false, first ? plan.outputs() : List.of());
      try {
        Outcome outcome;
        do {
          outcome = runBatch(session, feeds, plan.captures(), (int) start, count, fetch, twoPasses, sink,
              firstOutputs);
        } while (outcome == Outcome.AGAIN_IN_TWO_PASSES);
        if (outcome == Outcome.AGAIN_WHOLE) {
          // a non-finite moment: the Java kernel leaves non-finite values out and counts them (BN010)
          runBatch(session, feeds, plan.captures(), (int) start, count, fetch.wholeTensorsInstead(), twoPasses, sink,
              firstOutputs);
        }
      } catch (org.tensorflow.exceptions.TensorFlowException e) {
        throw new InvalidInputException(dataLabel, "samples " + start + " to " + (start + count - 1),
            cannotRun(dataLabel, e), e);
      }
    }
    return firstOutputs;
  }

  /** How a batch run ended: handed over, or to be run again, having handed over nothing. */
  private enum Outcome { DONE, AGAIN_IN_TWO_PASSES, AGAIN_WHOLE }

  /**
   * Runs one batch and hands every layer's moments (or whole input) to the sink, unless an
   * in-graph reduction came out non-finite or lost too many digits in one pass.
   *
   * @param twoPasses the reductions to run in two passes; those that lose digits are added
   * @param fetchedOutputs receives the model outputs the fetch asks for
   */
  private static Outcome runBatch(CheckedSession session, List<Feed> feeds, List<Capture> captures, int start, int count,
      Fetch fetch, Set<String> twoPasses, CalibrationSink sink, List<Tensor> fetchedOutputs) {
    List<ModelRunner.Input> outputs = fetch.outputs();
    List<org.tensorflow.Tensor> fed = new ArrayList<>();
    try {
      CheckedSession.Runner runner = feeding(session, feeds, start, count, fed);
      Fetches fetches = new Fetches(runner);
      List<Runnable> deliveries = new ArrayList<>();
      List<Function<Result, Outcome>> readers = new ArrayList<>();
      for (Capture c : captures) {
        readers.add(reader(c, fetches, fetch, twoPasses, sink, deliveries));
      }
      int firstOutput = outputs.isEmpty() ? -1 : fetches.add(outputs.get(0).tensor());
      for (int o = 1; o < outputs.size(); o++) {
        fetches.add(outputs.get(o).tensor());
      }
      try (Result result = runner.run()) {
        Outcome outcome = Outcome.DONE;
        for (var reader : readers) {
          outcome = worse(outcome, reader.apply(result));
        }
        if (outcome != Outcome.DONE) {
          return outcome;
        }
        deliveries.forEach(Runnable::run);
        for (int o = 0; o < outputs.size(); o++) {
          fetchedOutputs.add(TensorConversions.toTensor(result.get(firstOutput + o)));
        }
      }
      return Outcome.DONE;
    } finally {
      fed.forEach(org.tensorflow.Tensor::close);
    }
  }

  /** Positions of a run's fetches, in the order they were added. */
  private static final class Fetches {
    private final CheckedSession.Runner runner;
    private int next;

    Fetches(CheckedSession.Runner runner) {
      this.runner = runner;
    }

    int add(String tensor) {
      runner.fetch(tensor);
      return next++;
    }

    int add(InGraphMoments moments, boolean twoPasses) {
      int at = next;
      next += moments.fetch(runner, twoPasses);
      return at;
    }
  }

  /**
   * Adds one layer's fetches to the run, and returns what reads them from its result: it checks
   * the moments and queues their delivery to the sink, or says why the batch must run again.
   * Whole tensors are read only when delivered, one at a time, while the result is still open.
   */
  private static Function<Result, Outcome> reader(Capture c, Fetches fetches, Fetch fetch, Set<String> twoPasses,
      CalibrationSink sink, List<Runnable> deliveries) {
    int layer = c.layerIndex();
    InGraph inGraph = fetch.wholeTensors() ? null : c.inGraph();
    if (fetch.trainingView()) {
      return c.trainingViewInput() == null ? result -> Outcome.DONE
          : view(c, inGraph == null ? null : inGraph.trainingView(), c.trainingViewInput(), trainingKey(c), fetches,
              twoPasses, deliveries, moments -> sink.acceptTrainingViewMoments(layer, moments),
              (whole, axis) -> sink.acceptTrainingView(layer, whole, axis)).read();
    }
    InGraphMoments moments = inGraph == null ? null : inGraph.input();
    View input = view(c, moments, c.input(), inferenceKey(c), fetches, twoPasses, deliveries,
        m -> sink.acceptMoments(layer, m), (whole, axis) -> sink.accept(layer, whole, axis));
    if (!fetch.selfCheck()) {
      return input.read();
    }
    // the self-check reads the first samples, or the whole input where it is fetched anyway
    int inputSample = moments != null ? fetches.add(inGraph.inputSample()) : input.wholeAt();
    int outputSample = fetches.add(moments != null ? inGraph.outputSample() : c.output());
    // TensorFlow sums batch statistics in float32 over the whole batch, off by more than the
    // self-check's tolerance on large batches far from zero: its own statistics are compared with,
    // so that the self-check judges bncheck's normalization, not TensorFlow's sums
    BatchStatistics statistics = c.trainingMode() ? c.batchStatistics() : null;
    int statisticsAt = statistics == null ? -1 : fetches.add(statistics.mean());
    if (statistics != null) {
      fetches.add(statistics.variance());
    }
    return result -> {
      Outcome outcome = input.read().apply(result);
      if (statisticsAt >= 0) {
        deliveries.add(() -> sink.frameworkStatistics(layer, TensorConversions.doubles(result.get(statisticsAt)),
            TensorConversions.doubles(result.get(statisticsAt + 1))));
      }
      deliveries.add(() -> {
        Tensor in = TensorConversions.toTensor(result.get(inputSample));
        sink.frameworkOutput(layer, c.layer(), in, TensorConversions.toTensor(result.get(outputSample)),
            c.layer().resolveChannelAxis(in.shape().length), c.trainingMode(), Precision.FLOAT32);
      });
      return outcome;
    };
  }

  /**
   * What reads one view of a layer's input from a run's result.
   *
   * @param wholeAt where the whole tensor is among the fetches, or -1 where its moments are
   */
  private record View(Function<Result, Outcome> read, int wholeAt) {}

  /**
   * One view of a layer's input: its in-graph moments where there are any, else the whole
   * tensor. Adds the fetches.
   */
  private static View view(Capture c, InGraphMoments moments, String whole, String key, Fetches fetches,
      Set<String> twoPasses, List<Runnable> deliveries, Consumer<BatchMoments> acceptMoments,
      BiConsumer<Tensor, Integer> acceptWhole) {
    if (moments == null) {
      int at = fetches.add(whole);
      return new View(result -> {
        deliveries.add(() -> {
          Tensor tensor = TensorConversions.toTensor(result.get(at));
          int axis = c.layer().resolveChannelAxis(tensor.shape().length);
          requireChannels(c, tensor.shape(), axis);
          acceptWhole.accept(tensor, axis);
        });
        return Outcome.DONE;
      }, at);
    }
    boolean inTwoPasses = twoPasses.contains(key);
    int at = fetches.add(moments, inTwoPasses);
    return new View(result -> {
      InGraphMoments.Reading reading = moments.read(result, at, inTwoPasses);
      Outcome outcome = outcome(reading, key, twoPasses);
      if (outcome == Outcome.DONE) {
        requireChannels(c, reading.moments().shape(), reading.moments().channelAxis());
        deliveries.add(() -> acceptMoments.accept(reading.moments()));
      }
      return outcome;
    }, -1);
  }

  private static Outcome worse(Outcome a, Outcome b) {
    return b.compareTo(a) > 0 ? b : a;
  }

  private static String inferenceKey(Capture c) {
    return c.layerIndex() + " inference";
  }

  private static String trainingKey(Capture c) {
    return c.layerIndex() + " training";
  }

  private static Outcome outcome(InGraphMoments.Reading reading, String key, Set<String> twoPasses) {
    return switch (reading.status()) {
      case OK -> Outcome.DONE;
      case NOT_FINITE -> Outcome.AGAIN_WHOLE;
      case CANCELLED -> {
        twoPasses.add(key);
        yield Outcome.AGAIN_IN_TWO_PASSES;
      }
    };
  }

  private static void requireChannels(Capture c, int[] shape, int axis) {
    if (axis < 0 || shape[axis] != c.layer().channels()) {
      throw new IllegalStateException("layer " + c.layer().name() + ": captured input "
          + Arrays.toString(shape) + " does not have " + c.layer().channels()
          + " channels on axis " + c.layer().channelAxis());
    }
  }

  /** Samples also run alone: enough to show batch dependence, few enough to stay cheap. */
  static final int SINGLE_SAMPLES = 8;

  /**
   * Runs the first batch, then its first samples one at a time, and reports per output how much
   * a sample's result changes with the batch around it.
   */
  static void batchSizeConsistency(CheckedSession session, List<Feed> feeds, List<ModelRunner.Input> outputs, int batchSize,
      CalibrationSink sink, String dataLabel) {
    if (feeds.isEmpty()) {
      return;
    }
    int count = Math.min(batchSize, samples(feeds));
    if (count < 2 || outputs.isEmpty()) {
      return;
    }
    batchSizeConsistency(session, feeds, outputs, runOutputs(session, feeds, outputs, 0, count, dataLabel), sink,
        dataLabel);
  }

  /**
   * Runs the first samples of a batch one at a time, and reports per output how much a sample's
   * result changes with the batch around it.
   *
   * @param batched the outputs on the first batch
   */
  static void batchSizeConsistency(CheckedSession session, List<Feed> feeds, List<ModelRunner.Input> outputs,
      List<Tensor> batched, CalibrationSink sink, String dataLabel) {
    // without inputs the batch cannot be split into single samples
    if (feeds.isEmpty() || outputs.isEmpty() || batched.get(0).shape().length == 0 || batched.get(0).shape()[0] < 2) {
      return;
    }
    int count = batched.get(0).shape()[0];
    int singles = Math.min(count, SINGLE_SAMPLES);
    List<BatchSizeComparison> comparisons = batched.stream().map(t -> new BatchSizeComparison(t, count)).toList();
    for (int sample = 0; sample < singles; sample++) {
      List<Tensor> alone = runOutputs(session, feeds, outputs, sample, 1, dataLabel);
      for (int o = 0; o < outputs.size(); o++) {
        comparisons.get(o).addAlone(sample, alone.get(o));
      }
    }
    for (int o = 0; o < outputs.size(); o++) {
      comparisons.get(o).report(outputs.get(o).key(), sink);
    }
  }

  /**
   * The index of the largest value of the first output for every sample, running {@code batchSize}
   * samples at a time: a classifier's predictions.
   */
  static dev.bncheck.load.Predictions predictions(CheckedSession session, List<Feed> feeds, ModelRunner.Input output,
      int batchSize, String dataLabel) {
    int samples = samples(feeds);
    int[] out = new int[samples];
    int width = 0;
    for (int start = 0; start < samples; start += batchSize) {
      int count = Math.min(batchSize, samples - start);
      Tensor logits = runOutputs(session, feeds, List.of(output), start, count, dataLabel).get(0);
      int classes = logits.size() / count;
      width = classes;
      for (int s = 0; s < count; s++) {
        int best = 0;
        for (int k = 1; k < classes; k++) {
          if (logits.get(s * classes + k) > logits.get(s * classes + best)) {
            best = k;
          }
        }
        out[start + s] = best;
      }
    }
    return new dev.bncheck.load.Predictions(out, width);
  }

  private static List<Tensor> runOutputs(CheckedSession session, List<Feed> feeds, List<ModelRunner.Input> outputs, int start,
      int count, String dataLabel) {
    List<org.tensorflow.Tensor> fed = new ArrayList<>();
    try {
      CheckedSession.Runner runner = feeding(session, feeds, start, count, fed);
      for (ModelRunner.Input output : outputs) {
        runner.fetch(output.tensor());
      }
      List<Tensor> out = new ArrayList<>();
      try (Result result = runner.run()) {
        for (int i = 0; i < outputs.size(); i++) {
          out.add(TensorConversions.toTensor(result.get(i)));
        }
      }
      return out;
    } catch (org.tensorflow.exceptions.TensorFlowException e) {
      throw new InvalidInputException(dataLabel, "samples " + start + " to " + (start + count - 1),
          cannotRun(dataLabel, e), e);
    } finally {
      fed.forEach(org.tensorflow.Tensor::close);
    }
  }

  /**
   * A runner fed rows {@code [start, start + count)} of every input, at the original placeholder
   * and its copies; the tensors made for it are added to {@code fed}, for the caller to close.
   */
  private static CheckedSession.Runner feeding(CheckedSession session, List<Feed> feeds, int start, int count,
      List<org.tensorflow.Tensor> fed) {
    CheckedSession.Runner runner = session.runner();
    for (Feed feed : feeds) {
      org.tensorflow.Tensor t = slice(feed, start, count);
      fed.add(t);
      for (String name : feed.graphTensors()) {
        runner.feed(name, t);
      }
    }
    return runner;
  }

  /** Rows {@code [start, start + count)} of the data, as the tensor type and shape the graph takes. */
  private static org.tensorflow.Tensor slice(Feed feed, int start, int count) {
    int[] shape = feed.data().shape();
    if (feed.batching() == Batching.PER_RUN) {
      return tensor(feed, new long[0], 0, 1);
    }
    boolean unbatched = feed.batching() == Batching.UNBATCHED;
    long[] dims = new long[unbatched ? shape.length - 1 : shape.length];
    for (int i = 1; i < shape.length; i++) {
      dims[unbatched ? i - 1 : i] = shape[i];
    }
    if (!unbatched) {
      dims[0] = count;
    }
    int row = 1;
    for (int i = 1; i < shape.length; i++) {
      row *= shape[i];
    }
    int from = start * row;
    return tensor(feed, dims, from, from + count * row);
  }

  /** Elements {@code [from, to)} of the data, row-major, as a tensor of the graph's type and the given shape. */
  private static org.tensorflow.Tensor tensor(Feed feed, long[] dims, int from, int to) {
    if (feed.data() instanceof InputArray.Strings strings) {
      return TString.tensorOfBytes(Shape.of(dims), DataBuffers.ofObjects(Arrays.copyOfRange(strings.values(), from, to)));
    }
    Tensor data = ((InputArray.Numbers) feed.data()).tensor();
    if (feed.dtype() == DataType.DT_INT32) {
      int[] values = new int[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = (int) data.get(i);
      }
      return TInt32.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (feed.dtype() == DataType.DT_UINT8) {
      byte[] values = new byte[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = (byte) (int) data.get(i);
      }
      return TUint8.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (feed.dtype() == DataType.DT_UINT16) {
      short[] values = new short[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = (short) (int) data.get(i);
      }
      return TUint16.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (feed.dtype() == DataType.DT_BOOL) {
      boolean[] values = new boolean[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = data.get(i) != 0;
      }
      return TBool.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (feed.dtype() == DataType.DT_HALF || feed.dtype() == DataType.DT_BFLOAT16) {
      float[] values = new float[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = (float) data.get(i);
      }
      return feed.dtype() == DataType.DT_HALF
          ? TFloat16.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false))
          : TBfloat16.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (feed.dtype() == DataType.DT_INT64) {
      long[] values = new long[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = (long) data.get(i);
      }
      return TInt64.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (feed.dtype() == DataType.DT_DOUBLE) {
      double[] values = new double[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = data.get(i);
      }
      return TFloat64.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    float[] values = data instanceof Tensor.Float32 f
        ? Arrays.copyOfRange(f.data(), from, to)
        : toFloats(data, from, to);
    return TFloat32.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
  }

  private static float[] toFloats(Tensor data, int from, int to) {
    float[] out = new float[to - from];
    for (int i = from; i < to; i++) {
      out[i - from] = (float) data.get(i);
    }
    return out;
  }
}
