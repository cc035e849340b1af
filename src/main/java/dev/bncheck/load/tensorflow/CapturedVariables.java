package dev.bncheck.load.tensorflow;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operation;
import org.tensorflow.op.Ops;
import org.tensorflow.op.Scope;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedConcreteFunction;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedObjectGraph;

/**
 * The variable handles a signature's functions capture that the restore op does not fill from
 * their object's checkpoint key, each with the handle it fills from that key. {@code tf.saved_model.save} of a
 * {@code tf.Module} that wraps a Keras 3 model writes two handle ops per variable: one named
 * after the layer, which the serving functions capture and nothing restores, and one
 * ({@code Variable_N}) that the restore op fills. TensorFlow's own session loader then fails
 * ("Could not find variable"); {@code tf.saved_model.load} binds the captures through the object
 * graph. bncheck does the same: a capture is an object of the object graph (the concrete
 * function's bound inputs), the object has a checkpoint key (its first path from the root), and
 * the restore op assigns the value of that key to one handle.
 */
final class CapturedVariables {

  private static final Set<String> CALLS = Set.of("PartitionedCall", "StatefulPartitionedCall");

  private CapturedVariables() {}

  /**
   * Captured handle to the handle the restore op fills from the capture's own checkpoint key,
   * where the two differ (top-level node names). The captured handle is either not restored at all
   * (a Keras 3 model inside a {@code tf.Module}) or restored from another key of the same value
   * (Keras 3's {@code model.export} writes each variable under {@code variables/N} and
   * {@code _all_variables/M}, and the session's functions use the second while
   * {@code tf.saved_model.load} reads the first): either way TensorFlow 2 gives the capture the
   * value of its own key, and so does bncheck.
   */
  static Twins twins(TfGraph graph, MetaGraphDef meta, List<String> signatureOutputs, String location) {
    SavedObjectGraph objects = meta.getObjectGraphDef();
    if (objects.getNodesCount() == 0) {
      return new Twins(Map.of(), Map.of());
    }
    Map<String, String> restoredByKey = restoredHandles(graph, meta.getSaverDef().getRestoreOpName());
    Set<String> restored = new HashSet<>(restoredByKey.values());
    List<NodeDef> calls = signatureCalls(graph, signatureOutputs);
    Set<Integer> wanted = new HashSet<>();
    for (NodeDef call : calls) {
      SavedConcreteFunction function = objects.getConcreteFunctionsMap().get(call.getAttrMap().get("f").getFunc()
          .getName());
      if (function != null) {
        wanted.addAll(function.getBoundInputsList());
      }
    }
    Map<Integer, String> keys = checkpointKeys(objects, wanted);
    Map<String, String> all = new LinkedHashMap<>();
    Map<String, String> unrestored = new LinkedHashMap<>();
    for (NodeDef call : calls) {
      SavedConcreteFunction function = objects.getConcreteFunctionsMap().get(call.getAttrMap().get("f").getFunc()
          .getName());
      if (function == null) {
        continue;
      }
      List<String> inputs = OriginTracer.dataInputs(call);
      List<Integer> bound = function.getBoundInputsList();
      int first = inputs.size() - bound.size();
      for (int k = 0; k < bound.size() && first >= 0; k++) {
        String handle = GraphScope.Ref.parse(inputs.get(first + k)).node();
        NodeDef node = graph.topLevel().node(handle);
        String key = keys.get(bound.get(k));
        String filled = key == null ? null : restoredByKey.get(key);
        if (node != null && node.getOp().equals("VarHandleOp") && filled != null && !filled.equals(handle)) {
          requireSameKind(location, node, graph.topLevel().node(filled));
          all.put(handle, filled);
          if (!restored.contains(handle)) {
            unrestored.put(handle, filled);
          }
        }
      }
    }
    return new Twins(unrestored, all);
  }

  /**
   * Captured handles and their twins.
   *
   * @param unrestored the captured handles nothing restores: they take their twin's value at load
   * @param all every pair, also captures restored from another key of the same variable: new values
   *     are written to both
   */
  record Twins(Map<String, String> unrestored, Map<String, String> all) {}

  /**
   * The object-graph path of every variable the restore op fills, by its top-level handle node:
   * {@code bn1/moving_mean} for a {@code tf.Module} attribute {@code bn1.moving_mean}. A
   * {@code tf.Variable} created without a scope has a handle named after the variable alone
   * ({@code moving_mean}, {@code moving_mean_1}); its path says which layer it belongs to. Paths
   * keep the checkpoint's escapes ({@code .} as {@code ..} within a name).
   */
  static Map<String, String> objectPaths(TfGraph graph, MetaGraphDef meta) {
    SavedObjectGraph objects = meta.getObjectGraphDef();
    if (objects.getNodesCount() == 0) {
      return Map.of();
    }
    Map<String, String> restoredByKey = restoredHandles(graph, meta.getSaverDef().getRestoreOpName());
    Set<Integer> variables = new HashSet<>();
    for (int id = 0; id < objects.getNodesCount(); id++) {
      if (objects.getNodes(id).hasVariable()) {
        variables.add(id);
      }
    }
    Map<String, String> out = new HashMap<>();
    for (var e : checkpointKeys(objects, variables).entrySet()) {
      String handle = restoredByKey.get(e.getValue());
      if (handle != null) {
        out.put(handle, e.getValue().substring(0, e.getValue().length() - KEY_SUFFIX.length()));
      }
    }
    return out;
  }

  /**
   * Gives each handle (key) the value of another (value) in the loaded session: a captured handle
   * its twin's, before anything reads it, as {@code tf.saved_model.load} binds captures through the
   * object graph.
   */
  static void bind(CheckedSession session, Map<String, String> pairs) {
    if (pairs.isEmpty()) {
      return;
    }
    Graph graph = session.graph();
    Scope scope = Ops.create(graph).scope();
    CheckedSession.Runner runner = session.runner("giving the signature's variables their restored values");
    for (var pair : pairs.entrySet()) {
      GraphOperation captured = graph.operation(pair.getKey());
      GraphOperation restored = graph.operation(pair.getValue());
      var dtype = captured.attributes().getAttrType("dtype");
      Operation read = graph.opBuilder("ReadVariableOp", scope.makeUnique("bncheck_bind_read"), scope)
          .addInput(restored.output(0)).setAttr("dtype", dtype).build();
      Operation assign = graph.opBuilder("AssignVariableOp", scope.makeUnique("bncheck_bind_assign"), scope)
          .addInput(captured.output(0)).addInput(read.output(0)).setAttr("dtype", dtype).build();
      runner.addTarget(assign);
    }
    runner.run().close();
  }

  /** A binding the object graph asks for must join two variables of one dtype and shape. */
  private static void requireSameKind(String location, NodeDef captured, NodeDef restored) {
    boolean same = restored != null && restored.getOp().equals("VarHandleOp")
        && captured.getAttrMap().get("dtype").equals(restored.getAttrMap().get("dtype"))
        && java.util.Objects.equals(captured.getAttrMap().get("shape"), restored.getAttrMap().get("shape"));
    if (!same) {
      throw new dev.bncheck.load.InvalidInputException(location, "object_graph_def", "binds the variable "
          + captured.getName() + " to " + (restored == null ? "a missing node" : restored.getName())
          + ", a variable of another dtype or shape: the object graph does not match the graph");
    }
  }

  /** The top-level function calls that computing the signature's outputs runs. */
  private static List<NodeDef> signatureCalls(TfGraph graph, List<String> outputs) {
    return graph.topLevelDependencies(outputs).stream()
        .filter(node -> CALLS.contains(node.getOp()) && node.getAttrMap().containsKey("f")).toList();
  }

  private static final String KEY_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE";

  /** Checkpoint keys are short paths; a longer one is not a real model's, and its binding is skipped. */
  private static final int MAX_KEY_LENGTH = 4096;

  /**
   * The checkpoint keys of the given variable objects: each object's first path from the root,
   * breadth first, each local name escaped as TensorFlow escapes it ({@code .} to {@code ..},
   * {@code /} to {@code ./}). The search keeps one parent per object and spells out only the
   * paths asked for: spelling out every object's path took memory quadratic in a chain's length.
   */
  static Map<Integer, String> checkpointKeys(SavedObjectGraph objects, Set<Integer> wanted) {
    int count = objects.getNodesCount();
    int[] parent = new int[count];
    String[] names = new String[count];
    java.util.Arrays.fill(parent, -2);
    parent[0] = -1;
    Deque<Integer> pending = new ArrayDeque<>(List.of(0));
    while (!pending.isEmpty()) {
      int id = pending.poll();
      for (var child : objects.getNodes(id).getChildrenList()) {
        int c = child.getNodeId();
        if (c >= 0 && c < count && parent[c] == -2) {
          parent[c] = id;
          names[c] = child.getLocalName().replace(".", "..").replace("/", "./");
          pending.add(c);
        }
      }
    }
    Map<Integer, String> keys = new HashMap<>();
    for (int id : wanted) {
      if (id <= 0 || id >= count || parent[id] == -2 || !objects.getNodes(id).hasVariable()) {
        continue;
      }
      StringBuilder path = new StringBuilder();
      for (int at = id; at > 0 && path.length() <= MAX_KEY_LENGTH; at = parent[at]) {
        path.insert(0, path.length() == 0 ? names[at] : names[at] + "/");
      }
      if (path.length() <= MAX_KEY_LENGTH) {
        keys.put(id, path + KEY_SUFFIX);
      }
    }
    return keys;
  }

  /**
   * The handle the restore op fills for each checkpoint key: in the restore function, an
   * AssignVariableOp whose value comes (through identities) from output i of a RestoreV2, whose
   * tensor names give key i, and whose handle is an argument, the call's input.
   */
  private static Map<String, String> restoredHandles(TfGraph graph, String restoreOp) {
    Map<String, String> out = new HashMap<>();
    NodeDef call = graph.topLevel().node(GraphScope.Ref.parse(restoreOp).node());
    GraphScope function = call == null ? null : graph.calledFunction(call);
    if (function == null) {
      return out;
    }
    List<String> callInputs = OriginTracer.dataInputs(call);
    for (NodeDef assign : function.nodes()) {
      if (!assign.getOp().equals("AssignVariableOp")) {
        continue;
      }
      List<String> inputs = OriginTracer.dataInputs(assign);
      int arg = inputs.size() == 2 ? function.argumentIndex(GraphScope.Ref.parse(inputs.get(0)).node()) : -1;
      String key = arg < 0 || arg >= callInputs.size() ? null : restoredKey(function, inputs.get(1));
      if (key != null) {
        out.put(key, GraphScope.Ref.parse(callInputs.get(arg)).node());
      }
    }
    return out;
  }

  /** The checkpoint key a restored value was read under, or null if it does not come from a RestoreV2. */
  private static String restoredKey(GraphScope function, String reference) {
    for (int step = 0; step < 16; step++) {
      GraphScope.Ref ref = GraphScope.Ref.parse(reference);
      NodeDef node = function.node(ref.node());
      if (node == null) {
        return null;
      }
      List<String> inputs = OriginTracer.dataInputs(node);
      if (node.getOp().equals("Identity") && inputs.size() == 1) {
        reference = inputs.get(0);
        continue;
      }
      if (!node.getOp().equals("RestoreV2") || inputs.size() < 2) {
        return null;
      }
      NodeDef names = function.node(GraphScope.Ref.parse(inputs.get(1)).node());
      var value = names == null ? null : names.getAttrMap().get("value");
      if (value == null || ref.index() >= value.getTensor().getStringValCount()) {
        return null;
      }
      return value.getTensor().getStringVal(ref.index()).toStringUtf8();
    }
    return null;
  }
}
