package dev.bncheck.load.tensorflow;

import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.OpList;
import org.tensorflow.proto.TensorProto;

/**
 * Makes tensors inside functions fetchable: copies the nodes they depend on, through every
 * call (PartitionedCall, StatefulPartitionedCall) at any depth, into one flat graph under a
 * prefix, to be imported next to the loaded model. Function arguments become the caller's
 * tensors and call outputs the callee's returned tensors. The top-level nodes this needs (the
 * input placeholders, the variable handles) are copied too; a copied handle with the same
 * shared name reads the variable the model's checkpoint restored.
 *
 * <p>Only what the requested tensors depend on is copied. Control dependencies on call nodes
 * are dropped: in a serving function they order reads, not the values computed.
 */
final class FunctionInliner {

  static final String PREFIX = "bncheck_inline/";
  static final String TRAINING_PREFIX = "bncheck_train/";

  private final TfGraph graph;
  private final String root;
  private final boolean trainingView;
  private final Map<String, BnNode> statisticsReaders = new HashMap<>();
  private final Map<String, String[]> batchMoments = new HashMap<>();
  private final Map<String, OpDef> ops = new HashMap<>();
  private final GraphDef.Builder flat = GraphDef.newBuilder();
  private final IdentityHashMap<CallContext, String> prefixes = new IdentityHashMap<>();
  private final Map<String, CallContext> children = new HashMap<>();
  private final Set<String> copied = new HashSet<>();
  private final Set<CallContext> takenBranches;

  /**
   * @param takenBranches If branches always taken ({@link DeadBranches#alwaysTaken}): their
   *     arguments resolve through the If's inputs, as a plain call's do
   */
  FunctionInliner(TfGraph graph, OpList registered, Set<CallContext> takenBranches) {
    this(graph, registered, false, List.of(), takenBranches);
  }

  /**
   * An inliner whose copy runs every BN layer in training mode: fused nodes get
   * {@code is_training=true}, and the decomposed pattern reads the batch's own mean and biased
   * variance instead of the moving statistics. Upstream layers then behave as they did while the
   * moving averages were being updated, which is what the averages were meant to track.
   */
  static FunctionInliner trainingView(TfGraph graph, OpList registered, List<BnNode> bnNodes,
      Set<CallContext> takenBranches) {
    return new FunctionInliner(graph, registered, true, bnNodes, takenBranches);
  }

  /**
   * @param trainingView whether this is the training view's copy, under a prefix of its own even
   *     when no layer is rewritten (both copies' placeholders are fed)
   */
  private FunctionInliner(TfGraph graph, OpList registered, boolean trainingView, List<BnNode> trainingRewrites,
      Set<CallContext> takenBranches) {
    this.graph = graph;
    this.takenBranches = Set.copyOf(takenBranches);
    this.trainingView = trainingView;
    this.root = trainingView ? TRAINING_PREFIX : PREFIX;
    for (BnNode bn : trainingRewrites) {
      if (bn.statistics() != null) {
        statisticsReaders.put(bn.context().describe(bn.statistics().meanReader()), bn);
        statisticsReaders.put(bn.context().describe(bn.statistics().varianceReader()), bn);
      }
    }
    for (OpDef op : registered.getOpList()) {
      ops.put(op.getName(), op);
    }
  }

  /** The flat graph holding every node copied so far. */
  GraphDef graphDef() {
    return flat.build();
  }

  /** The flat-graph name ({@code node:index}) of a tensor written as in {@code context}'s node inputs. */
  String tensor(CallContext context, String reference) {
    GraphScope.Ref ref = GraphScope.Ref.parse(reference);
    GraphScope scope = context.scope();
    int arg = scope.argumentIndex(ref.node());
    if (arg >= 0) {
      if (!context.plainCall() && !takenBranches.contains(context)) {
        throw new Unsupported("inside " + context.callNode().getOp() + " " + context.callNode().getName()
            + ", which runs its function only for some inputs or repeatedly, so no copy computes what the run"
            + " computes");
      }
      return tensor(context.caller(), OriginTracer.dataInputs(context.callNode()).get(arg + context.argumentOffset()));
    }
    NodeDef node = scope.node(ref.node());
    if (node == null) {
      throw new Unsupported("no node " + context.describe(ref.node()));
    }
    int index = flatIndex(scope, node, ref);
    GraphScope callee = graph.calledFunction(node);
    if (callee != null) {
      CallContext child = child(context, node, callee);
      String returned = callee.returnedTensor(index);
      if (returned == null) {
        throw new Unsupported("output " + index + " of " + context.describe(node.getName()));
      }
      return tensor(child, returned);
    }
    copy(context, node);
    return prefix(context) + node.getName() + ":" + index;
  }

  /** The flat-graph name of a top-level placeholder, to feed. */
  String feed(String topLevelTensor) {
    GraphScope.Ref ref = GraphScope.Ref.parse(topLevelTensor);
    return root + ref.node() + ":" + ref.index();
  }

  private CallContext child(CallContext context, NodeDef call, GraphScope callee) {
    String key = prefix(context) + call.getName();
    return children.computeIfAbsent(key, k -> context.enter(callee, call));
  }

  private String prefix(CallContext context) {
    return prefixes.computeIfAbsent(context, c -> c.caller() == null
        ? root
        : prefix(c.caller()) + c.callNode().getName() + "/");
  }

  private void copy(CallContext context, NodeDef node) {
    String name = prefix(context) + node.getName();
    if (!copied.add(name)) {
      return;
    }
    try {
      copyInputsAndAdd(context, node, name);
    } catch (Unsupported e) {
      // Not copied after all: a later request for this node must fail the same way, not find a
      // name that is in no graph.
      copied.remove(name);
      throw e;
    }
  }

  private void copyInputsAndAdd(CallContext context, NodeDef node, String name) {
    if (node.getOp().equals("VariableV2") || node.getOp().equals("Variable")) {
      throw new Unsupported("reference variable " + node.getName() + " cannot be shared by a copy");
    }
    // Shape hints are left out: the training view feeds some nodes tensors of another (valid)
    // shape, and a stale hint would make the import fail. So are colocation constraints
    // (loc:@NODE, written by Python TF1): they name nodes of the original, which the copy does
    // not know, and only place ops on devices.
    NodeDef.Builder copy = node.toBuilder().setName(name).clearInput().clearDevice().removeAttr("_output_shapes")
        .removeAttr("_class");
    if (node.getOp().equals("VarHandleOp") && context.caller() == null) {
      AttrValue shared = node.getAttrMap().get("shared_name");
      if (shared == null || shared.getS().isEmpty()) {
        copy.putAttr("shared_name", AttrValue.newBuilder()
            .setS(com.google.protobuf.ByteString.copyFromUtf8(node.getName())).build());
      }
    }
    if (trainingView && BnNodeFinder.FUSED_OPS.contains(node.getOp())) {
      copy.putAttr("is_training", AttrValue.newBuilder().setB(true).build());
      if (node.getOp().equals("FusedBatchNormV3")) {
        copy.putAttr("exponential_avg_factor", AttrValue.newBuilder().setF(1f).build());
      }
    }
    BnNode rewritten = trainingView ? statisticsReaders.get(context.describe(node.getName())) : null;
    int dataIndex = 0;
    for (String input : node.getInputList()) {
      if (!input.startsWith("^") && rewritten != null) {
        int index = dataIndex++;
        var readers = rewritten.statistics();
        if (node.getName().equals(readers.meanReader()) && index == readers.meanInput()) {
          copy.addInput(batchMoments(context, rewritten)[0]);
          continue;
        }
        if (node.getName().equals(readers.varianceReader()) && index == readers.varianceInput()) {
          copy.addInput(batchMoments(context, rewritten)[1]);
          continue;
        }
      }
      if (input.startsWith("^")) {
        String target = input.substring(1);
        NodeDef dependency = context.scope().node(target);
        if (dependency != null && graph.calledFunction(dependency) == null) {
          copy(context, dependency);
          copy.addInput("^" + prefix(context) + target);
        }
      } else {
        copy.addInput(tensor(context, input));
      }
    }
    flat.addNode(copy.build());
  }

  /**
   * Nodes computing the batch mean and biased variance of a decomposed BN layer's input over
   * every axis but the last (the channel axis of the pattern), as tf.nn.moments does in training.
   */
  private String[] batchMoments(CallContext context, BnNode bn) {
    return batchMoments.computeIfAbsent(context.describe(bn.node()), k -> {
      if (bn.channelAxis() != -1) {
        throw new Unsupported("training view of a channels-first decomposed layer " + bn.describe());
      }
      String x = tensor(context, bn.input());
      String p = prefix(context) + bn.node() + "/bncheck_moments/";
      flat.addNode(constInt(p + "zero", 0));
      flat.addNode(constInt(p + "one", 1));
      flat.addNode(node("Rank", p + "rank", List.of(x), Map.of("T", type(DataType.DT_FLOAT))));
      flat.addNode(node("Sub", p + "last", List.of(p + "rank:0", p + "one:0"), Map.of("T", type(DataType.DT_INT32))));
      flat.addNode(node("Range", p + "axes", List.of(p + "zero:0", p + "last:0", p + "one:0"),
          Map.of("Tidx", type(DataType.DT_INT32))));
      Map<String, AttrValue> meanAttrs = Map.of("T", type(DataType.DT_FLOAT), "Tidx", type(DataType.DT_INT32),
          "keep_dims", AttrValue.newBuilder().setB(false).build());
      flat.addNode(node("Mean", p + "mean", List.of(x, p + "axes:0"), meanAttrs));
      flat.addNode(node("SquaredDifference", p + "squared_difference", List.of(x, p + "mean:0"),
          Map.of("T", type(DataType.DT_FLOAT))));
      flat.addNode(node("Mean", p + "variance", List.of(p + "squared_difference:0", p + "axes:0"), meanAttrs));
      return new String[] {p + "mean:0", p + "variance:0"};
    });
  }

  private static NodeDef node(String op, String name, List<String> inputs, Map<String, AttrValue> attrs) {
    return NodeDef.newBuilder().setOp(op).setName(name).addAllInput(inputs).putAllAttr(attrs).build();
  }

  private static NodeDef constInt(String name, int value) {
    TensorProto tensor = TensorProto.newBuilder().setDtype(DataType.DT_INT32).addIntVal(value).build();
    return NodeDef.newBuilder().setOp("Const").setName(name)
        .putAttr("dtype", type(DataType.DT_INT32))
        .putAttr("value", AttrValue.newBuilder().setTensor(tensor).build()).build();
  }

  private static AttrValue type(DataType type) {
    return AttrValue.newBuilder().setType(type).build();
  }

  /**
   * The position of a referenced output among all of a node's outputs. In a function body an
   * output is named {@code node:output_arg:i}; list arguments count as their length.
   */
  private int flatIndex(GraphScope scope, NodeDef node, GraphScope.Ref ref) {
    if (!scope.isFunction() || ref.outputArg() == null) {
      return ref.index();
    }
    List<OpDef.ArgDef> outputs = outputArgs(node);
    int offset = 0;
    for (OpDef.ArgDef arg : outputs) {
      if (arg.getName().equals(ref.outputArg())) {
        return offset + ref.index();
      }
      offset += size(node, arg);
    }
    throw new Unsupported("output " + ref.outputArg() + " of " + node.getOp() + " node " + node.getName());
  }

  private List<OpDef.ArgDef> outputArgs(NodeDef node) {
    OpDef op = ops.get(node.getOp());
    if (op != null) {
      return op.getOutputArgList();
    }
    GraphScope function = graph.calledFunction(node);
    if (function != null) {
      return function.outputArgs();
    }
    throw new Unsupported("op " + node.getOp() + " is not registered");
  }

  private static int size(NodeDef node, OpDef.ArgDef arg) {
    if (!arg.getNumberAttr().isEmpty()) {
      return (int) node.getAttrMap().get(arg.getNumberAttr()).getI();
    }
    if (!arg.getTypeListAttr().isEmpty()) {
      return node.getAttrMap().get(arg.getTypeListAttr()).getList().getTypeCount();
    }
    return 1;
  }

  /** A graph the inliner cannot flatten; the affected layers are analysed without data. */
  static final class Unsupported extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unsupported(String message) {
      super(message);
    }
  }
}
