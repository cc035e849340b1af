package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.BatchMoments;
import dev.bncheck.model.BnLayer;
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

  /** Positions along each axis but the batch's and the channel's that the self-check compares. */
  static final int SELF_CHECK_POSITIONS = 4;

  private CalibrationRun() {}

  /**
   * What a pass of calibration runs fetches, and on how many samples.
   *
   * @param outputs model outputs fetched with the first batch (inference view only)
   * @param pass which inputs the layers' statistics are of; the self-check runs with the inference view
   * @param use what the statistics are for, which sets how precisely they are reduced
   */
  record Plan(List<Capture> captures, List<ModelRunner.Input> outputs, int batchSize, long maxSamples, Pass pass,
      Use use) {

    /** Whose inputs a pass captures: the model as it serves, or with every BN layer in training mode. */
    enum Pass { INFERENCE_VIEW, TRAINING_VIEW }

    /** What a pass's statistics are for. */
    enum Use {
      /** Judged against the moving statistics: in-graph reductions may take one pass where the mean allows. */
      JUDGED,
      /**
       * Written into a model: every in-graph reduction in two passes, as precise as the data itself
       * whatever the mean.
       */
      WRITTEN
    }

    boolean trainingView() {
      return pass == Pass.TRAINING_VIEW;
    }
  }

  /**
   * What one batch run fetches.
   *
   * @param selfCheck the layers' inputs and outputs on the first samples, for the self-check
   * @param wholeTensors every input whole, to reduce in Java, in-graph moments or not
   * @param firstBatch whether the self-check and the outputs are read: they are on the first batch
   *     only, and fetched on later ones to keep the fetches of every batch alike
   */
  private record Fetch(boolean trainingView, boolean selfCheck, boolean wholeTensors,
      List<ModelRunner.Input> outputs, boolean firstBatch) {

    /** Every input whole, and on a later batch nothing unread: the fetches differ from the other batches' anyway. */
    Fetch wholeTensorsInstead() {
      return new Fetch(trainingView, selfCheck && firstBatch, true, firstBatch ? outputs : List.of(), firstBatch);
    }
  }

  /** Runs the calibration batches; returns the plan's outputs on the first batch. */
  static List<Tensor> run(CheckedSession session, List<Feed> feeds, Plan plan, CalibrationSink sink, String dataLabel) {
    int batchSize = plan.batchSize();
    List<Tensor> firstOutputs = new ArrayList<>();
    // a graph with nothing to feed (constants all the way, as in TensorFlow's import tests)
    // computes one batch of its own: it runs once, as it is
    long samples = Math.min(plan.maxSamples(), Feed.samples(feeds));
    long batches = (samples + batchSize - 1) / batchSize;
    // the in-graph reductions that lost too many digits in one pass, by layer and view; once
    // found, they stay in two passes for the later batches
    Set<String> twoPasses = new HashSet<>();
    boolean slicedEverywhere = plan.captures().stream().allMatch(c -> c.inGraph() != null);
    if (plan.use() == Plan.Use.WRITTEN) {
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
      // Where the self-check fetches small slices, the later batches fetch them too, unread:
      // TensorFlow builds an executor for each new set of fetches, which took ResNet-50's second
      // batch 0.18 s longer than the others (issue #19).
      boolean selfCheck = first || (!plan.trainingView() && slicedEverywhere);
      Fetch fetch = new Fetch(plan.trainingView(), selfCheck, false, selfCheck ? plan.outputs() : List.of(), first);
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
        boolean eachRunsAlone = count > 1 && ModelOutputs.eachRunsAlone(feeds, (int) start, count, dataLabel,
            sample -> runBatch(session, feeds, plan.captures(), sample, 1, fetch, new HashSet<>(twoPasses), DISCARDED,
                new ArrayList<>()));
        throw new InvalidInputException(dataLabel, Feed.samples(feeds, (int) start, count),
            ModelOutputs.cannotRun(dataLabel, e, eachRunsAlone), e);
      }
    }
    return firstOutputs;
  }

  /** Takes what a run hands over and keeps nothing: a sample run alone only to see whether it fails. */
  private static final CalibrationSink DISCARDED = new CalibrationSink() {
    @Override
    public boolean wantsActivations() {
      return true;
    }

    @Override
    public void accept(int layerIndex, Tensor batch, int channelAxis) {}
  };

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
      CheckedSession.Runner runner = Feed.runner(session, feeds, start, count, fed);
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
        for (int o = 0; fetch.firstBatch() && o < outputs.size(); o++) {
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
    // the self-check reads the first samples, also where a non-finite moment has the batch
    // reduced whole (for a layer behind a Keras mask, the whole input fetched is its kept rows,
    // not the tensor the node normalizes); the whole input where no slices were added
    InGraph slices = c.inGraph();
    int inputSample = slices != null ? fetches.add(slices.inputSample()) : input.wholeAt();
    int outputSample = fetches.add(slices != null ? slices.outputSample() : c.output());
    // TensorFlow sums batch statistics in float32 over the whole batch, off by more than the
    // self-check's tolerance on large batches far from zero: its own statistics are compared with,
    // so that the self-check judges bncheck's normalization, not TensorFlow's sums
    BatchStatistics statistics = c.trainingMode() ? c.batchStatistics() : null;
    int statisticsAt = statistics == null ? -1 : fetches.add(statistics.mean());
    if (statistics != null) {
      fetches.add(statistics.variance());
    }
    if (!fetch.firstBatch()) {
      return input.read();
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
}
