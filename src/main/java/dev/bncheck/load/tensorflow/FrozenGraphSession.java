package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.array.GivenInputs;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.tensorflow.Graph;
import org.tensorflow.Session;

/**
 * A frozen graph imported into a TensorFlow session of its own and kept open to run. Its
 * statistics are constants of the graph: it is run, never rewritten.
 */
final class FrozenGraphSession extends TensorFlowSession {

  private final BnModelFromFrozenGraph.Parsed parsed;
  /** Null where nothing is loaded (see {@link TensorFlowSession}). */
  private final Graph tfGraph;
  private final Session session;

  private FrozenGraphSession(BnModelFromFrozenGraph.Parsed parsed, LoadOptions options, Graph tfGraph,
      Session session, RunnableGraph runtime, CompletableFuture<GivenInputs> given) {
    super(parsed.graph(), options, parsed.model(), runtime, given);
    this.parsed = parsed;
    this.tfGraph = tfGraph;
    this.session = session;
  }

  static FrozenGraphSession open(Path input, LoadOptions options) {
    CompletableFuture<GivenInputs> given = readInBackground(options);
    TensorFlowRuntime.startLoadingNatives();
    BnModelFromFrozenGraph.Parsed parsed = BnModelFromFrozenGraph.parse(input, options);
    String location = input.toString();
    TfGraph graph = parsed.graph();
    InputNodes.requireKnown(graph, options.tensorFlow().inputNodes(), location);
    if (parsed.layers().layers().isEmpty()) {
      return new FrozenGraphSession(parsed, options, null, null, null, given);
    }
    if (!options.trustModel()) {
      new ModelSafety(graph, location, options.allowedOps()).checkFrozenGraph();
    }
    TensorFlowRuntime.awaitNatives();
    Graph g = new Graph();
    Session session = null;
    try {
      session = TensorFlowRuntime.session(g, options.timeout());
      CheckedSession checked = new CheckedSession(g, session, location, options);
      List<ModelRunner.Input> inputs;
      if (options.tensorFlow().inputNodes().isEmpty()) {
        inputs = BnModelFromFrozenGraph.placeholders(parsed.graphDef());
        // the graph runs as imported: its placeholders that do not declare their rank get the data's
        ModelRunner.importDeclaring(checked, parsed.graphDef(), ModelRunner.undeclaredRanks(inputs, given),
            ModelRunner.Input::tensor);
      } else {
        checked.importGraphDef(parsed.graphDef());
        inputs = InputNodes.resolve(g, graph, options.tensorFlow().inputNodes(), location);
      }
      ModelRunner runner = new ModelRunner(graph, checked);
      RunnableGraph runtime = new RunnableGraph(runner, runner.prepare(parsed.layers(), inputs), List.of(), List.of());
      return new FrozenGraphSession(parsed, options, g, session, runtime, given);
    } catch (RuntimeException e) {
      if (session != null) {
        session.close();
      }
      g.close();
      throw e;
    }
  }

  @Override
  void checkDataWithoutRunning() {
    // nothing to capture, but data that cannot be read is an error whatever the model
    if (!options().inputs().isEmpty()) {
      givenInputs();
    } else if (options().tensorFlow().inputNodes().isEmpty()) {
      SyntheticInputs.make(BnModelFromFrozenGraph.placeholders(parsed.graphDef()), options().syntheticSamples(),
          parsed.graph());
    }
  }

  @Override
  public void assignStatistics(int layerIndex, double[] mean, double[] variance) {
    throw frozen();
  }

  @Override
  public void saveTo(Path directory) {
    throw frozen();
  }

  private InvalidInputException frozen() {
    return new InvalidInputException(model().location(), "", "a frozen graph holds its statistics as constants;"
        + " they cannot be rewritten in place");
  }

  @Override
  public void close() {
    if (session != null) {
      session.close();
      tfGraph.close();
    }
  }
}
