package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SaverDef;

/**
 * Checks, before TensorFlow runs anything, every op that one part of a model's execution would
 * run: what loading runs (the restore op, the init or main op), what the chosen signature runs,
 * what saving the model runs, or what one of bncheck's own session runs executes. A part is the
 * top-level nodes the run's fetches and targets depend on, and every node of every function they
 * call, through any function-valued attribute ({@link CallGraph}). Only ops on the
 * {@link OpAllowlist} pass; checkpoint ops only in the parts where TensorFlow's loader or saver
 * needs them, and only on the path it feeds ({@link CheckpointPaths}).
 */
final class ModelSafety {

  /**
   * Where the loader looks for the init op: TF2's signature, then TF1's collections; TensorFlow
   * Java also registers the table initializers as initializers a session may run.
   */
  private static final List<String> INIT_COLLECTIONS =
      List.of("saved_model_main_op", "legacy_init_op", "table_initializer");

  private static final Set<String> RESTORE_OPS = Set.of("RestoreV2");
  private static final Set<String> SAVE_OPS = Set.of("SaveV2", "MergeV2Checkpoints");

  /** A part of a run: its name for messages, and the checkpoint ops it may run on the fed path. */
  private record Part(String name, boolean beforeAnything, Set<String> checkpointOps, String filename) {}

  private final TfGraph graph;
  private final String location;
  private final Set<String> extraAllowed;
  /** The top-level tensors ({@code node:index}) loading feeds with asset paths: never constants. */
  private Set<String> assetFed = Set.of();

  ModelSafety(TfGraph graph, String location, Set<String> extraAllowed) {
    this.graph = graph;
    this.location = location;
    this.extraAllowed = extraAllowed;
  }

  /** Printable ASCII: what real node and function names hold ({@code __inference_<lambda>_12}). */
  private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[\\x20-\\x7e]+");

  /**
   * Refuses node and function names that are not printable ASCII. TensorFlow does not check a
   * function's name, and logs it raw when it cannot convert the function: a newline and escape
   * codes in it forged CI log lines on bncheck's stderr before bncheck said a word.
   */
  void checkNames() {
    List<GraphScope> scopes = new ArrayList<>(List.of(graph.topLevel()));
    scopes.addAll(graph.functions());
    for (GraphScope scope : scopes) {
      if (scope.isFunction() && !NAME.matcher(scope.name()).matches()) {
        throw new InvalidInputException(location, "function " + shortened(scope.name()),
            "its name holds characters other than printable ASCII; refused before running anything");
      }
      for (NodeDef node : scope.nodes()) {
        if (!NAME.matcher(node.getName()).matches()) {
          throw new InvalidInputException(location, "node " + shortened(node.getName()),
              "its name holds characters other than printable ASCII; refused before running anything");
        }
      }
    }
  }

  /** A model-controlled name cut for a one-line message (the message's control characters are escaped where printed). */
  static String shortened(String name) {
    return name.length() > 80 ? name.substring(0, 80) + "…" : name;
  }

  /** Checks what loading a SavedModel runs: its restore op, then its init op. */
  void checkLoading(MetaGraphDef meta) {
    SaverDef saver = meta.getSaverDef();
    assetFed = LoaderFeeds.assetTensors(meta, location);
    for (String name : List.of(saver.getFilenameTensorName(), saver.getRestoreOpName(), saver.getSaveTensorName())) {
      if (!name.isEmpty() && !GraphScope.Ref.canonical(name)) {
        throw new InvalidInputException(location, "saver_def", "names " + name + ", which TensorFlow may read as"
            + " another tensor than bncheck checks; refused before running anything");
      }
    }
    if (!saver.getFilenameTensorName().isEmpty() && assetFed.contains(tensorKey(saver.getFilenameTensorName()))) {
      throw new InvalidInputException(location, "asset_file_def", "feeds the checkpoint path tensor "
          + saver.getFilenameTensorName() + " with an asset's path; refused before running anything");
    }
    if (!saver.getRestoreOpName().isEmpty()) {
      check(new Part("the restore op that loading runs", true, RESTORE_OPS, saver.getFilenameTensorName()),
          List.of(saver.getRestoreOpName()));
    }
    List<String> init = new ArrayList<>();
    var initSignature = meta.getSignatureDefMap().get("__saved_model_init_op");
    if (initSignature != null) {
      initSignature.getOutputsMap().values().forEach(info -> init.add(info.getName()));
    }
    for (String collection : INIT_COLLECTIONS) {
      CollectionDef def = meta.getCollectionDefMap().get(collection);
      if (def != null) {
        init.addAll(def.getNodeList().getValueList());
      }
    }
    if (!init.isEmpty()) {
      check(new Part("the init op that loading runs", true, Set.of(), null), init);
    }
  }

  /** Checks what running a SavedModel's signature runs. */
  void checkSignature(List<String> outputs) {
    check(new Part("the signature's graph", true, Set.of(), null), outputs);
  }

  /** Checks what saving the session's variables with the model's own saver runs (recalibrate). */
  void checkSave(SaverDef saver) {
    check(new Part("the save op that writing the new model runs", true, SAVE_OPS, saver.getFilenameTensorName()),
        List.of(saver.getSaveTensorName()));
  }

  /** Checks what running a frozen graph executes: everything its outputs depend on. */
  void checkFrozenGraph() {
    check(new Part("the graph", true, Set.of(), null), graph.sinks());
  }

  /**
   * Refuses a graph part whose function calls bncheck could not walk safely to find its BN
   * layers (recursion, nesting, size, calls it cannot resolve), without checking its ops: what
   * {@code inspect} reads but never runs. The outputs of a signature, or none for a frozen graph's sinks.
   */
  void checkWalkable(List<String> outputs) {
    List<String> starts = outputs.isEmpty() ? graph.sinks() : outputs;
    try {
      CallGraph.of(graph, graph.topLevelDependencies(starts));
    } catch (CallGraph.Refusal r) {
      throw refused(new Part(outputs.isEmpty() ? "the graph" : "the signature's graph", true, Set.of(), null),
          r.chain, r.node, r.getMessage(), false);
    }
  }



  /** Checks what one session run of bncheck's executes: its fetches and targets, on the graph as it is now. */
  void checkRun(List<String> fetchesAndTargets) {
    check(new Part("what bncheck runs on the data", false, Set.of(), null), fetchesAndTargets);
  }

  private void check(Part part, List<String> starts) {
    List<NodeDef> topLevel = graph.topLevelDependencies(starts);
    CallGraph calls;
    try {
      calls = CallGraph.of(graph, topLevel);
    } catch (CallGraph.Refusal r) {
      throw refused(part, r.chain, r.node, r.getMessage(), false);
    }
    CheckpointPaths paths = part.filename() == null ? null : new CheckpointPaths(calls, part.filename(), assetFed);
    for (NodeDef node : topLevel) {
      checkNode(part, calls, paths, graph.topLevel(), node);
    }
    for (GraphScope function : calls.functions()) {
      for (NodeDef node : function.nodes()) {
        checkNode(part, calls, paths, function, node);
      }
    }
  }

  private void checkNode(Part part, CallGraph calls, CheckpointPaths paths, GraphScope scope, NodeDef node) {
    for (String input : node.getInputList()) {
      if (!GraphScope.Ref.canonical(input)) {
        throw refused(part, calls.chain(scope), node, "its input " + input + " is not written as TensorFlow writes"
            + " tensor names, and TensorFlow may read it as another tensor than bncheck checks", false);
      }
    }
    String op = node.getOp();
    if (graph.function(op) != null || extraAllowed.contains(op)) {
      return;
    }
    if (!OpAllowlist.allows(op)) {
      throw refused(part, calls.chain(scope), node, op + ": " + OpAllowlist.why(op), true);
    }
    if (OpAllowlist.CHECKPOINT_OPS.contains(op)) {
      if (!part.checkpointOps().contains(op)) {
        throw refused(part, calls.chain(scope), node, op + " reads or writes a checkpoint, which only TensorFlow's"
            + " own restore (and bncheck's save of a recalibrated model) may do", true);
      }
      List<String> inputs = OriginTracer.dataInputs(node);
      // MergeV2Checkpoints reads its first input's shards, then deletes them, and writes its second
      int pathInputs = op.equals("MergeV2Checkpoints") ? 2 : 1;
      for (int i = 0; i < pathInputs; i++) {
        if (i >= inputs.size() || !paths.isFedPath(scope, inputs.get(i))) {
          throw refused(part, calls.chain(scope), node, op + " reads or writes a checkpoint at a path that is not"
              + " the one TensorFlow feeds (the model's own variables/)", true);
        }
      }
    }
  }

  private InvalidInputException refused(Part part, List<String> chain, NodeDef node, String why, boolean byOp) {
    String where = chain.isEmpty() ? node.getName() : node.getName() + " in " + describe(chain);
    String relax = byOp ? "pass --allow-op " + node.getOp() + " or --trust-model" : "pass --trust-model";
    return new InvalidInputException(location, "node " + where,
        (part.beforeAnything() ? "refused before running anything" : "refused before running it") + ": in "
            + part.name() + ", " + why + "; if you trust this model, " + relax + " (docs/security.md)");
  }

  /** A top-level tensor as {@code node:index}. */
  static String tensorKey(String reference) {
    GraphScope.Ref ref = GraphScope.Ref.parse(reference);
    return ref.node() + ":" + ref.index();
  }

  /** A chain of functions for a one-line message: its ends when it is long. */
  private static String describe(List<String> chain) {
    if (chain.size() <= 8) {
      return String.join(" > ", chain);
    }
    return String.join(" > ", chain.subList(0, 3)) + " > (" + (chain.size() - 6) + " more) > "
        + String.join(" > ", chain.subList(chain.size() - 3, chain.size()));
  }


}
