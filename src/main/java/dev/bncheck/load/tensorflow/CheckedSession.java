package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.op.Op;
import org.tensorflow.proto.GraphDef;

/**
 * A session whose every run is checked first by {@link ModelSafety}, on the graph as it is at
 * that moment: bncheck adds nodes to a model's graph (inlined copies of functions, a
 * training-mode copy, statistics, variable reads), so a check of {@code saved_model.pb} alone
 * would not be a check of what runs. Each distinct set of fetches and targets is checked once.
 */
final class CheckedSession {

  private final Graph graph;
  private final Session session;
  private final String location;
  private final LoadOptions options;
  private final Set<List<String>> checked = new HashSet<>();
  private TfGraph snapshot;
  private Set<String> snapshotNodes = Set.of();
  private int snapshotsTaken;

  /** @param options the ops the user allows beyond the allowlist, or trust in the model (no check) */
  CheckedSession(Graph graph, Session session, String location, LoadOptions options) {
    this.graph = graph;
    this.session = session;
    this.location = location;
    this.options = options;
  }

  Graph graph() {
    return graph;
  }

  /**
   * Adds the nodes of {@code graphDef} to the graph. TensorFlow Java takes every node whose name
   * starts with {@code Init}, in the whole graph, for an initializer the next run must run
   * first: a model's own variable initializer (TensorFlow Java's exporter names it {@code Init})
   * would run over the restored values, or a session that does not run initializers would
   * refuse to run at all, and a node so named would run beside the fetches this class checks.
   * bncheck's sessions never run initializers (variables come from the checkpoint or are
   * constants), so they are marked as run.
   */
  void importGraphDef(GraphDef graphDef) {
    try {
      graph.importGraphDef(graphDef);
    } catch (TensorFlowException | IllegalArgumentException | UnsupportedOperationException e) {
      throw new InvalidInputException(location, "", "TensorFlow cannot import the graph: "
          + TensorFlowRuntime.firstLine(e.getMessage()), e);
    }
    try {
      Method markRan = Session.class.getDeclaredMethod("markAllInitializersAsRan");
      markRan.setAccessible(true);
      markRan.invoke(session);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("this TensorFlow Java cannot mark initializers as run", e);
    }
  }

  /**
   * How many times a run fetched nodes the last check had not seen, so that the graph was
   * serialized and checked again: each follows nodes added to the graph, for which TensorFlow
   * rebuilds its view of the graph at that run.
   */
  synchronized int snapshots() {
    return snapshotsTaken;
  }

  /** How many distinct sets of fetches and targets have run (each was checked once). */
  synchronized int distinctRuns() {
    return checked.size();
  }

  /** A run of the model on data. */
  Runner runner() {
    return runner("running the model on the data");
  }

  /** The model file or folder, for messages. */
  String location() {
    return location;
  }

  /** A run for {@code phase}, named in the message if it reaches the time limit. */
  Runner runner(String phase) {
    return new Runner(phase);
  }

  private synchronized void check(List<String> fetchesAndTargets) {
    if (options.trustModel() || checked.contains(fetchesAndTargets)) {
      return;
    }
    boolean known = fetchesAndTargets.stream().allMatch(t -> snapshotNodes.contains(GraphScope.Ref.parse(t).node()));
    if (!known) {
      snapshot = new TfGraph(graph.toGraphDef());
      Set<String> names = new HashSet<>();
      snapshot.topLevel().nodes().forEach(n -> names.add(n.getName()));
      snapshotNodes = names;
      snapshotsTaken++;
    }
    new ModelSafety(snapshot, location, options.allowedOps()).checkRun(fetchesAndTargets);
    checked.add(fetchesAndTargets);
  }

  /** A run being assembled: what it feeds, fetches and runs. */
  final class Runner {
    private final Session.Runner runner = session.runner();
    private final List<String> fetchesAndTargets = new ArrayList<>();
    private final String phase;

    private Runner(String phase) {
      this.phase = phase;
    }

    Runner feed(String tensor, Tensor value) {
      runner.feed(tensor, value);
      return this;
    }

    Runner fetch(String tensor) {
      fetchesAndTargets.add(tensor);
      runner.fetch(tensor);
      return this;
    }

    Runner fetch(Operand<?> operand) {
      fetchesAndTargets.add(operand.op().name() + ":" + operand.asOutput().index());
      runner.fetch(operand);
      return this;
    }

    Runner addTarget(Op op) {
      return addTarget(op.op());
    }

    Runner addTarget(Operation operation) {
      fetchesAndTargets.add(operation.name());
      runner.addTarget(operation);
      return this;
    }

    Result run() {
      check(List.copyOf(fetchesAndTargets));
      return TensorFlowRuntime.timedRun(location, phase, options.timeout(), runner::run);
    }
  }
}
