package dev.bncheck.load.tensorflow;

import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.OpList;

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

  private final TfGraph graph;
  private final Map<String, OpDef> ops = new HashMap<>();
  private final GraphDef.Builder flat = GraphDef.newBuilder();
  private final Map<CallContext, String> prefixes = new IdentityHashMap<>();
  private final Map<String, CallContext> children = new HashMap<>();
  private final Set<String> copied = new HashSet<>();

  FunctionInliner(TfGraph graph, OpList registered) {
    this.graph = graph;
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
      return tensor(context.caller(), OriginTracer.dataInputs(context.callNode()).get(arg));
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
    return PREFIX + ref.node() + ":" + ref.index();
  }

  private CallContext child(CallContext context, NodeDef call, GraphScope callee) {
    String key = prefix(context) + call.getName();
    return children.computeIfAbsent(key, k -> context.enter(callee, call));
  }

  private String prefix(CallContext context) {
    return prefixes.computeIfAbsent(context, c -> c.caller() == null
        ? PREFIX
        : prefix(c.caller()) + c.callNode().getName() + "/");
  }

  private void copy(CallContext context, NodeDef node) {
    String name = prefix(context) + node.getName();
    if (!copied.add(name)) {
      return;
    }
    if (node.getOp().equals("VariableV2") || node.getOp().equals("Variable")) {
      throw new Unsupported("reference variable " + node.getName() + " cannot be shared by a copy");
    }
    NodeDef.Builder copy = node.toBuilder().setName(name).clearInput().clearDevice();
    if (node.getOp().equals("VarHandleOp") && context.caller() == null) {
      AttrValue shared = node.getAttrMap().get("shared_name");
      if (shared == null || shared.getS().isEmpty()) {
        copy.putAttr("shared_name", AttrValue.newBuilder()
            .setS(com.google.protobuf.ByteString.copyFromUtf8(node.getName())).build());
      }
    }
    for (String input : node.getInputList()) {
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
