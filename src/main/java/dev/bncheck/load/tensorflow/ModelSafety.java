package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Checks, before TensorFlow runs anything, every op a model would execute: what loading runs
 * (the restore op, the init or main op) and what the chosen signature runs, followed into
 * functions at any depth. Only ops on the {@link OpAllowlist} pass, and checkpoint ops only when
 * their path is the one the loader feeds: the model's own {@code variables/}.
 */
final class ModelSafety {

  private static final List<String> INIT_COLLECTIONS =
      List.of("saved_model_main_op", "legacy_init_op", "saved_model_legacy_init_op");

  private final TfGraph graph;
  private final String location;
  private final Set<String> extraAllowed;

  ModelSafety(TfGraph graph, String location, Set<String> extraAllowed) {
    this.graph = graph;
    this.location = location;
    this.extraAllowed = extraAllowed;
  }

  /** Checks what loading a SavedModel and running its signature execute. */
  void checkSavedModel(MetaGraphDef meta, List<String> signatureOutputs) {
    Map<String, List<String>> parts = new LinkedHashMap<>();
    String restore = meta.getSaverDef().getRestoreOpName();
    if (!restore.isEmpty()) {
      parts.put("the restore op that loading runs", List.of(restore));
    }
    List<String> init = new ArrayList<>();
    for (String collection : INIT_COLLECTIONS) {
      CollectionDef def = meta.getCollectionDefMap().get(collection);
      if (def != null) {
        init.addAll(def.getNodeList().getValueList());
      }
    }
    var initSignature = meta.getSignatureDefMap().get("__saved_model_init_op");
    if (initSignature != null) {
      initSignature.getOutputsMap().values().forEach(info -> init.add(info.getName()));
    }
    if (!init.isEmpty()) {
      parts.put("the init op that loading runs", init);
    }
    parts.put("the signature's graph", signatureOutputs);
    String filename = GraphScope.Ref.parse(meta.getSaverDef().getFilenameTensorName()).node();
    for (var part : parts.entrySet()) {
      check(part.getKey(), graph.reachableFrom(part.getValue()), filename);
    }
  }

  /** Checks what running a frozen graph executes. */
  void checkFrozenGraph() {
    check("the graph", graph.reachableFromSinks(), null);
  }

  private void check(String part, List<TfGraph.Reached> reached, String filenameNode) {
    for (TfGraph.Reached r : reached) {
      NodeDef node = r.node();
      String op = node.getOp();
      boolean function = graph.calledFunction(node) != null;
      if (!function && !OpAllowlist.allows(op) && !extraAllowed.contains(op)) {
        throw refused(part, r, op + " " + OpAllowlist.why(op));
      }
      if (OpAllowlist.CHECKPOINT_OPS.contains(op) && !extraAllowed.contains(op)
          && !fromModelsOwnVariables(r.context(), node, filenameNode)) {
        throw refused(part, r, op + " reads or writes a checkpoint at a path that is not the model's own variables/");
      }
    }
  }

  private InvalidInputException refused(String part, TfGraph.Reached r, String why) {
    return new InvalidInputException(location, "node " + r.context().describe(r.node().getName()),
        "refused before running anything: in " + part + ", " + why + "; if you trust this model, pass --allow-op "
            + r.node().getOp() + " or --trust-model (docs/security.md)");
  }

  /** Whether a checkpoint op's path is the filename tensor the loader feeds with the model's own path. */
  private boolean fromModelsOwnVariables(CallContext context, NodeDef node, String filenameNode) {
    if (filenameNode == null || filenameNode.isEmpty()) {
      return false;
    }
    List<String> inputs = OriginTracer.dataInputs(node);
    if (inputs.isEmpty()) {
      return false;
    }
    return reachesOnly(context, inputs.get(0), filenameNode, 0);
  }

  /**
   * Whether every path back from a string tensor ends at the filename tensor or at constant
   * suffixes joined to it (the sharded save writes {@code <prefix>_temp/part-00000-of-00001}).
   */
  private boolean reachesOnly(CallContext context, String reference, String filenameNode, int depth) {
    if (depth > 50) {
      return false;
    }
    GraphScope.Ref ref = GraphScope.Ref.parse(reference);
    int arg = context.scope().argumentIndex(ref.node());
    if (arg >= 0) {
      return reachesOnly(context.caller(), OriginTracer.dataInputs(context.callNode()).get(arg), filenameNode,
          depth + 1);
    }
    NodeDef node = context.scope().node(ref.node());
    if (node == null) {
      return false;
    }
    if (context.caller() == null && node.getName().equals(filenameNode)) {
      return true;
    }
    switch (node.getOp()) {
      case "Identity", "StringJoin", "ShardedFilename", "Pack" -> {
        boolean sawFilename = false;
        for (String input : OriginTracer.dataInputs(node)) {
          NodeDef producer = context.scope().node(GraphScope.Ref.parse(input).node());
          boolean constant = producer != null && producer.getOp().equals("Const") && context.scope().argumentIndex(
              GraphScope.Ref.parse(input).node()) < 0;
          if (constant && !node.getOp().equals("Identity")) {
            continue;
          }
          if (!reachesOnly(context, input, filenameNode, depth + 1)) {
            return false;
          }
          sawFilename = true;
        }
        return sawFilename;
      }
      default -> {
        return false;
      }
    }
  }
}
