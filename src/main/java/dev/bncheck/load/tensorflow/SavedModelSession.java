package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.array.GivenInputs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
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
 * A SavedModel loaded and kept open: to calibrate on the check's data, or to capture layer inputs
 * repeatedly, change BN moving statistics in its session, and save the result as a new
 * SavedModel (recalibrate).
 */
public final class SavedModelSession extends TensorFlowSession {

  /** Files of a SavedModel that stay as they are; the fingerprint is left out, since it no longer matches. */
  private static final List<String> COPIED = List.of("saved_model.pb", "keras_metadata.pb", "assets", "assets.extra");

  private final Path input;
  private final java.time.Duration timeout;
  private final SavedModelFile file;
  /** Null where nothing is loaded (see {@link TensorFlowSession}). */
  private final SavedModelBundle bundle;
  private final CheckedSession session;
  /** Captured handles the restore op does not fill, and the handles it does fill for them, which the saver writes. */
  private final Map<String, String> twins;
  private final LayerAssembler.Layers layers;

  private SavedModelSession(Path input, LoadOptions options, SavedModelFile file, TfGraph graph,
      LayerAssembler.Layers layers, SavedModelBundle bundle, CheckedSession session, RunnableGraph runtime,
      Map<String, String> twins, CompletableFuture<GivenInputs> given) {
    super(graph, options, BnModelFromSavedModel.model(input, file, layers), runtime, given);
    this.input = input;
    this.timeout = options.timeout();
    this.file = file;
    this.layers = layers;
    this.bundle = bundle;
    this.session = session;
    this.twins = twins;
  }

  /** Opens the SavedModel (see {@link dev.bncheck.load.ModelLoader#open}). */
  public static SavedModelSession open(Path input, LoadOptions options) {
    return LargeStack.call(() -> opened(input, options));
  }

  private static SavedModelSession opened(Path input, LoadOptions options) {
    CompletableFuture<GivenInputs> given = readInBackground(options);
    TensorFlowRuntime.startLoadingNatives();
    SavedModelFile file = SavedModelFile.read(input, options.tensorFlow().tagSet(), options.tensorFlow().signature());
    TfGraph graph = new TfGraph(file.metaGraph().getGraphDef());
    GraphBnLayers found = BnModelFromSavedModel.discover(input, file, graph, options);
    // Without data now, the session is to run on data given later and may save the model
    // (recalibrate): what running and saving execute is checked before loading. With data,
    // discover has checked the signature; the save op is never run, and check does not refuse it.
    boolean writable = !options.runsOnData();
    if (!options.trustModel() && writable) {
      ModelSafety safety = new ModelSafety(graph, input.toString(), options.allowedOps());
      safety.checkSignature(file.outputTensors());
      safety.checkSave(file.metaGraph().getSaverDef());
    }
    if (found.nodes().isEmpty() && !writable) {
      return new SavedModelSession(input, options, file, graph, found.assemble(VariableReader.NONE), null, null, null,
          Map.of(), given);
    }
    try {
      return loaded(input, options, file, graph, found, writable, given, true);
    } catch (SessionVariableReader.NotAsDeclared e) {
      // TensorFlow may still run a variable that holds another shape than its handle declares
      // (an outside tester's model declared 4 channels and restored 8 throughout): the graph,
      // prepared on the declared shapes, cannot be prepared again, so the model is loaded again
      return loaded(input, options, file, graph, found, writable, given, false);
    }
  }

  /**
   * Loads the SavedModel, reads its BN variables and prepares its graph for the runs.
   *
   * @param declaredShapesFirst whether to prepare the graph on the variables' declared shapes
   *     before their values are read, so that TensorFlow rebuilds its view of the graph once for
   *     both (see {@link SessionVariableReader}); it reads the values first where a shape is not
   *     declared
   * @throws SessionVariableReader.NotAsDeclared when a value read does not have its declared shape
   */
  private static SavedModelSession loaded(Path input, LoadOptions options, SavedModelFile file, TfGraph graph,
      GraphBnLayers found, boolean writable, CompletableFuture<GivenInputs> given, boolean declaredShapesFirst) {
    SavedModelBundle bundle = TensorFlowRuntime.load(file.directoryToLoad(), file.tags(), options.timeout());
    try {
      CheckedSession session = new CheckedSession(bundle.graph(), bundle.session(), input.toString(), options);
      CapturedVariables.Twins captured =
          CapturedVariables.twins(graph, file.metaGraph(), file.outputTensors(), input.toString());
      CapturedVariables.bind(session, captured.unrestored());
      SessionVariableReader variables = new SessionVariableReader(session, input.toString());
      Optional<LayerAssembler.Layers> declared = declaredShapesFirst ? variables.declaredLayers(found)
          : Optional.empty();
      List<ModelRunner.Input> inputs = options.tensorFlow().inputNodes().isEmpty()
          ? BnModelFromSavedModel.tensors(file.signature().getInputsMap())
          : InputNodes.resolve(bundle.graph(), graph, options.tensorFlow().inputNodes(), input.toString());
      List<ModelRunner.Input> outputs = BnModelFromSavedModel.tensors(file.signature().getOutputsMap());
      List<ModelRunner.Input> floats = writable ? List.of() : ModelRunner.batchedFloats(outputs);
      ModelRunner runner = new ModelRunner(graph, session);
      LayerAssembler.Layers layers;
      ModelRunner.Prepared prepared;
      Map<ModelRunner.Input, long[]> inputShapes = ModelRunner.undeclaredRanks(inputs, given);
      if (declared.isPresent()) {
        prepared = runner.prepare(declared.get(), inputs, floats, inputShapes);
        layers = found.assemble(variables);
        prepared = prepared.withLayers(layers.layers());
      } else {
        layers = found.assemble(variables);
        prepared = runner.prepare(layers, inputs, floats, inputShapes);
      }
      RunnableGraph runtime = new RunnableGraph(runner, prepared, outputs, floats);
      return new SavedModelSession(input, options, file, graph, layers, bundle, session, runtime, captured.all(),
          given);
    } catch (RuntimeException e) {
      bundle.close();
      throw e;
    }
  }

  /** The session every run goes through; null where nothing is loaded. */
  CheckedSession checkedSession() {
    return session;
  }

  @Override
  void checkDataWithoutRunning() {
    if (!options().inputs().isEmpty()) {
      givenInputs();
    }
  }

  /**
   * Sets a layer's moving statistics in the session. Fails for statistics that are not
   * variables (a layer whose graph feeds them as constants cannot be recalibrated this way).
   */
  @Override
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
    try {
      if (v.op().equals("VarHandleOp")) {
        return tf.assignVariableOp(variable.output(0),
            float64 ? tf.constant(values) : tf.constant(TensorConversions.floats(values)));
      }
      // A TF1 reference variable: Assign writes through the reference.
      return float64
          ? tf.assign((Operand<TFloat64>) (Operand<?>) variable.output(0), tf.constant(values))
          : tf.assign((Operand<TFloat32>) (Operand<?>) variable.output(0), tf.constant(TensorConversions.floats(values)));
    } catch (TensorFlowException | IllegalArgumentException e) {
      // the graph declares another shape for the variable than the checkpoint gave it, and
      // TensorFlow refuses a write of the values' shape (an outside tester's model)
      throw new InvalidInputException(input.toString(), "", "the " + what + " of a layer, " + v.describe() + ", cannot"
          + " be written with " + values.length + " values: " + TensorFlowRuntime.firstLine(e.getMessage()), e);
    }
  }

  /**
   * Writes the model, with the session's current variables, as a new SavedModel in
   * {@code directory}: saved_model.pb, Keras metadata and assets copied, variables saved by the
   * model's own saver.
   */
  @Override
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

  @Override
  public void close() {
    if (bundle != null) {
      bundle.close();
    }
  }
}
