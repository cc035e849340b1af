package dev.bncheck.load.tensorflow;

import dev.bncheck.load.Background;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelSession;
import dev.bncheck.load.array.GivenInputs;
import dev.bncheck.model.Backend;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * What a SavedModel and a frozen graph share as a {@link ModelSession}: a graph loaded in a
 * TensorFlow session and run through {@link ModelRunner}. Every call runs on a large-stack
 * thread, as graph walks need.
 */
abstract class TensorFlowSession implements ModelSession {

  /**
   * The loaded graph made ready to run.
   *
   * @param outputs the model's outputs, for predictions and BN005
   * @param floatOutputs the outputs the inference view compares for BN005, prepared with the graph
   */
  record RunnableGraph(ModelRunner runner, ModelRunner.Prepared prepared, List<ModelRunner.Input> outputs,
      List<ModelRunner.Input> floatOutputs) {}

  private final TfGraph graph;
  private final LoadOptions options;
  private final BnModel model;
  /** Null where nothing needs running: a model without BN layers, opened to check its data. */
  private final RunnableGraph runtime;
  /** The data given with --inputs, being read; null without it. */
  private final CompletableFuture<GivenInputs> given;
  /** The data as the inference view fed it, once it has run. */
  private ModelRunner.Fed fed;

  /**
   * @param given the data given with --inputs, being read ({@link #readInBackground}); null
   *     without it
   */
  TensorFlowSession(TfGraph graph, LoadOptions options, BnModel model, RunnableGraph runtime,
      CompletableFuture<GivenInputs> given) {
    this.graph = graph;
    this.options = options;
    this.model = model;
    this.runtime = runtime;
    this.given = given;
  }

  /**
   * Starts reading the data given with --inputs, for a session opened to run on it; null without
   * it. Reading ResNet-50's 256 samples and counting the distinct ones took 0.4 s, which the
   * model's loading hides: it runs mostly on one core.
   */
  static CompletableFuture<GivenInputs> readInBackground(LoadOptions options) {
    return !options.runsOnData() || options.inputs().isEmpty() ? null
        : Background.start("bncheck-inputs", () -> GivenInputs.read(options.inputs()));
  }

  /** The data given with --inputs, read; fails as reading it fails. */
  GivenInputs givenInputs() {
    if (given == null) {
      throw new IllegalStateException("no --inputs to read: " + model.location());
    }
    return Background.joined(given);
  }

  /** Reads the calibration data for a model that is not run, so that data that cannot be read is an error whatever the model. */
  abstract void checkDataWithoutRunning();

  private static final Backend TENSORFLOW = new Backend("TensorFlow", "signature output");

  @Override
  public Backend backend() {
    return TENSORFLOW;
  }

  LoadOptions options() {
    return options;
  }

  @Override
  public BnModel model() {
    return model;
  }

  @Override
  public void calibrate(View view, CalibrationSink sink) {
    LargeStack.call(() -> {
      if (view == View.TRAINING) {
        if (!offersTrainingView()) {
          throw new IllegalStateException("no training view to run: " + model.location());
        }
        runtime.runner().trainingView(runtime.prepared(), fed, options, sink);
      } else if (runtime == null) {
        checkDataWithoutRunning();
      } else {
        GivenInputs data = options.inputs().isEmpty() ? synthetic() : givenInputs();
        fed = runtime.runner().inference(runtime.prepared(), runtime.floatOutputs(), data, options, sink);
      }
      return null;
    });
  }

  private GivenInputs synthetic() {
    return GivenInputs.of(SyntheticInputs.make(runtime.prepared().inputs(), options.syntheticSamples(), graph));
  }

  @Override
  public boolean offersTrainingView() {
    return fed != null && options.trainingViewSamples() > 0 && ModelRunner.offersTrainingView(runtime.prepared());
  }

  @Override
  public void capture(Map<String, Tensor> data, Set<Integer> layers, int batchSize, CalibrationSink sink) {
    RunnableGraph run = runtime();
    LargeStack.call(() -> {
      run.runner().capture(run.prepared(), data, layers, batchSize, sink, "--inputs");
      return null;
    });
  }

  @Override
  public dev.bncheck.load.Predictions predictions(Map<String, Tensor> data, int batchSize) {
    RunnableGraph run = runtime();
    return LargeStack.call(() -> run.runner().predictions(run.prepared(), data, run.outputs(), batchSize));
  }

  @Override
  public void batchSizeConsistency(Map<String, Tensor> data, int batchSize, CalibrationSink sink) {
    RunnableGraph run = runtime();
    LargeStack.call(() -> {
      run.runner().batchSizeConsistency(run.prepared(), data, run.outputs(), batchSize, sink);
      return null;
    });
  }

  @Override
  public void switchToInferenceMode(int layerIndex) {
    throw new InvalidInputException(model.location(), "layer " + model.layers().get(layerIndex).name(),
        "bncheck cannot switch a TensorFlow graph's training-mode layer to inference mode; re-export the model in"
            + " inference mode (docs/findings.md#bn002)");
  }

  private RunnableGraph runtime() {
    if (runtime == null) {
      throw new IllegalStateException("opened to check data, not to run: " + model.location());
    }
    return runtime;
  }
}
