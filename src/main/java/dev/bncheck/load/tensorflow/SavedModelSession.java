package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/**
 * A SavedModel loaded and kept open, to capture layer inputs repeatedly, change BN moving
 * statistics in its session, and save the result as a new SavedModel: what recalibration needs.
 * Every call runs on a large-stack thread, as graph walks need.
 */
public final class SavedModelSession implements AutoCloseable {

  /** Files of a SavedModel that stay as they are; the fingerprint is left out, since it no longer matches. */
  private static final List<String> COPIED = List.of("saved_model.pb", "keras_metadata.pb", "assets", "assets.extra");

  private final Path input;
  private final java.time.Duration timeout;
  private final SavedModelFile file;
  private final SavedModelBundle bundle;
  private final CheckedSession session;
  /** Captured handles the restore op does not fill, and the handles it does fill for them, which the saver writes. */
  private final Map<String, String> twins;
  private final LayerAssembler.Layers layers;
  private final BnModel model;
  private final ModelRunner runner;
  private final ModelRunner.Prepared prepared;

  private SavedModelSession(Path input, LoadOptions options) {
    this.input = input;
    this.timeout = options.timeout();
    this.file = SavedModelFile.read(input, options.tagSet(), options.signature());
    TfGraph graph = new TfGraph(file.metaGraph().getGraphDef());
    GraphBnLayers found = BnModelFromSavedModel.discover(input, file, graph, options);
    if (!options.trustModel()) {
      ModelSafety safety = new ModelSafety(graph, input.toString(), options.allowedOps());
      safety.checkSignature(file.outputTensors());
      safety.checkSave(file.metaGraph().getSaverDef());
    }
    this.bundle = TensorFlowRuntime.load(file.directoryToLoad(), file.tags(), options.timeout());
    try {
      this.session = new CheckedSession(bundle.graph(), bundle.session(), input.toString(), options);
      CapturedVariables.Twins captured =
          CapturedVariables.twins(graph, file.metaGraph(), file.outputTensors(), input.toString());
      CapturedVariables.bind(session, captured.unrestored());
      this.twins = captured.all();
      this.layers = found.assemble(new SessionVariableReader(session, input.toString()));
      this.model = BnModelFromSavedModel.model(input, file, layers);
      this.runner = new ModelRunner(graph, session);
      this.prepared = runner.prepare(layers, BnModelFromSavedModel.tensors(file.signature().getInputsMap()));
    } catch (RuntimeException e) {
      bundle.close();
      throw e;
    }
  }

  public static SavedModelSession open(Path input, LoadOptions options) {
    return LargeStack.call(() -> new SavedModelSession(input, options));
  }

  public BnModel model() {
    return model;
  }

  /** Streams what reaches the given layers on the data, with the session's current statistics. */
  public void capture(Map<String, Tensor> data, Set<Integer> layerIndexes, int batchSize, CalibrationSink sink) {
    LargeStack.call(() -> {
      runner.capture(prepared, data, layerIndexes, batchSize, sink, "--inputs");
      return null;
    });
  }

  /** A classifier's predicted class per sample (argmax of the first float output), {@code batchSize} at a time. */
  public int[] predictions(Map<String, Tensor> data, int batchSize) {
    return LargeStack.call(() -> runner.predictions(prepared, data,
        BnModelFromSavedModel.tensors(file.signature().getOutputsMap()), batchSize));
  }

  /** Compares outputs between a batch and its first samples run alone (reported to the sink). */
  public void batchSizeConsistency(Map<String, Tensor> data, int batchSize, CalibrationSink sink) {
    LargeStack.call(() -> {
      runner.batchSizeConsistency(prepared, data, BnModelFromSavedModel.tensors(file.signature().getOutputsMap()),
          batchSize, sink);
      return null;
    });
  }

  /**
   * Sets a layer's moving statistics in the session. Fails for statistics that are not
   * variables (a layer whose graph feeds them as constants cannot be recalibrated this way).
   */
  public void assignStatistics(int layerIndex, double[] mean, double[] variance) {
    BnNode node = layers.nodesPerLayer().get(layerIndex).get(0);
    Ops tf = Ops.create(bundle.graph()).withSubScope("bncheck_assign");
    Op meanAssign = assign(tf, node.mean(), mean, "moving mean");
    Op varianceAssign = assign(tf, node.variance(), variance, "moving variance");
    session.runner("setting the new statistics").addTarget(meanAssign).addTarget(varianceAssign).run().close();
    // the saver writes the restored twins of captured handles: they get the new values too
    Map<String, String> written = new java.util.LinkedHashMap<>();
    for (Origin origin : List.of(node.mean(), node.variance())) {
      if (origin instanceof Origin.Variable v && twins.containsKey(v.node())) {
        written.put(twins.get(v.node()), v.node());
      }
    }
    CapturedVariables.bind(session, written);
  }

  @SuppressWarnings("unchecked")
  private Op assign(Ops tf, Origin origin, double[] values, String what) {
    if (!(origin instanceof Origin.Variable v)) {
      throw new InvalidInputException(input.toString(), "", "the " + what + " of a layer is " + origin.describe()
          + ", not a variable; it cannot be recalibrated in place");
    }
    GraphOperation variable = bundle.graph().operation(v.node());
    DataType dtype = DataType.forNumber(variable.attributes().getAttrType("dtype").getNumber());
    boolean float64 = dtype == DataType.DT_DOUBLE || dtype == DataType.DT_DOUBLE_REF;
    if (v.op().equals("VarHandleOp")) {
      return tf.assignVariableOp(variable.output(0), float64 ? tf.constant(values) : tf.constant(toFloats(values)));
    }
    // A TF1 reference variable: Assign writes through the reference.
    return float64
        ? tf.assign((Operand<TFloat64>) (Operand<?>) variable.output(0), tf.constant(values))
        : tf.assign((Operand<TFloat32>) (Operand<?>) variable.output(0), tf.constant(toFloats(values)));
  }

  /**
   * Writes the model, with the session's current variables, as a new SavedModel in
   * {@code directory}: saved_model.pb, Keras metadata and assets copied, variables saved by the
   * model's own saver.
   */
  public void saveTo(Path directory) {
    try {
      Files.createDirectories(directory.resolve("variables"));
      save(directory.resolve("variables").resolve("variables").toString());
      UnchangedParts.copy(file.directory(), COPIED, directory);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs the model's own save op (checked before loading), within the time limit like every run. */
  private void save(String prefix) {
    try {
      TensorFlowRuntime.timedRun(input.toString(), "saving the new model (the model's save op)", timeout, () -> {
        bundle.session().save(prefix);
        return null;
      });
    } catch (TensorFlowException e) {
      throw new InvalidInputException(input.toString(), "", "TensorFlow cannot save it with its own save op: "
          + TensorFlowRuntime.firstLine(e.getMessage()), e);
    }
  }

  private static float[] toFloats(double[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  @Override
  public void close() {
    bundle.close();
  }
}
