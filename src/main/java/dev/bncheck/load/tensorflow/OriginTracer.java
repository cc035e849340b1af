package dev.bncheck.load.tensorflow;

import java.util.List;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/** Follows a node input back to its origin: through identities, variable reads, function arguments and call outputs. */
final class OriginTracer {

  /** Ops that pass their first input through unchanged in value. */
  private static final Set<String> PASS_THROUGH = Set.of(
      "Identity", "ReadVariableOp", "Snapshot", "StopGradient", "Reshape", "ExpandDims", "Squeeze",
      "Cast", "PreventGradient", "CheckNumerics", "EnsureShape", "Switch", "RefSwitch", "Enter", "RefEnter");

  private static final int MAX_STEPS = 10_000;

  /**
   * All traces of one model together: a few seconds of work. Without a bound, a small graph of
   * functions that each call the next twice, with a long identity chain to every parameter, kept
   * bncheck busy for many minutes.
   */
  static final long MAX_TOTAL_STEPS = 20_000_000;

  private final TfGraph graph;
  private long totalSteps;

  OriginTracer(TfGraph graph) {
    this.graph = graph;
  }

  /** Thrown when tracing a model's parameters would take more than {@link #MAX_TOTAL_STEPS} steps. */
  static final class TooLarge extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TooLarge() {
      super("tracing the BN parameters back to their variables takes more than " + MAX_TOTAL_STEPS
          + " steps across all calls", null, false, false);
    }
  }

  /** The origin of input {@code inputIndex} of {@code node}. */
  Origin traceInput(CallContext context, NodeDef node, int inputIndex) {
    List<String> inputs = dataInputs(node);
    if (inputIndex >= inputs.size()) {
      return new Origin.Unresolved(node.getName() + " has no input " + inputIndex);
    }
    return trace(context, GraphScope.Ref.parse(inputs.get(inputIndex)));
  }

  Origin trace(CallContext context, GraphScope.Ref ref) {
    for (int step = 0; step < MAX_STEPS; step++) {
      if (++totalSteps > MAX_TOTAL_STEPS) {
        throw new TooLarge();
      }
      GraphScope scope = context.scope();
      int arg = scope.argumentIndex(ref.node());
      if (arg >= 0) {
        List<String> callInputs = dataInputs(context.callNode());
        arg += context.argumentOffset();
        if (arg >= callInputs.size()) {
          return new Origin.Unresolved("argument " + ref.node() + " of " + scope.name() + " has no caller input");
        }
        ref = GraphScope.Ref.parse(callInputs.get(arg));
        context = context.caller();
        continue;
      }
      NodeDef node = scope.node(ref.node());
      if (node == null) {
        return new Origin.Unresolved("no node " + context.describe(ref.node()));
      }
      String op = node.getOp();
      if (PASS_THROUGH.contains(op)) {
        List<String> inputs = dataInputs(node);
        if (inputs.isEmpty()) {
          return new Origin.Unresolved(context.describe(node.getName()) + " (" + op + ") has no input");
        }
        ref = GraphScope.Ref.parse(inputs.get(0));
        continue;
      }
      switch (op) {
        case "Const" -> {
          return new Origin.Constant(context, node);
        }
        case "VarHandleOp" -> {
          var shared = node.getAttrMap().get("shared_name");
          String name = shared == null || shared.getS().isEmpty() ? node.getName() : shared.getS().toStringUtf8();
          return context.caller() == null
              ? new Origin.Variable(name, node.getName(), op)
              : new Origin.Unresolved("variable " + name + " is created inside function " + scope.name());
        }
        case "VariableV2", "Variable" -> {
          return new Origin.Variable(node.getName(), node.getName(), op);
        }
        case "Placeholder", "PlaceholderWithDefault" -> {
          return new Origin.Unresolved("fed at run time through " + context.describe(node.getName()));
        }
        default -> {
          // a function call or a computation: below
        }
      }
      GraphScope callee = graph.calledFunction(node);
      if (callee != null) {
        String returned = callee.returnedTensor(ref.index());
        if (returned == null) {
          return new Origin.Unresolved("output " + ref.index() + " of " + context.describe(node.getName()));
        }
        context = context.enter(callee, node);
        ref = GraphScope.Ref.parse(returned);
        continue;
      }
      return new Origin.Computed(context, node);
    }
    return new Origin.Unresolved("input chain too long");
  }

  /** The inputs of a node that carry data, without control dependencies. */
  static List<String> dataInputs(NodeDef node) {
    return node.getInputList().stream().filter(i -> !i.startsWith("^")).toList();
  }

  /** The node's data input at {@code index}, if it has one: a hostile graph may cut any away. */
  static java.util.Optional<String> dataInput(NodeDef node, int index) {
    List<String> inputs = dataInputs(node);
    return index < inputs.size() ? java.util.Optional.of(inputs.get(index)) : java.util.Optional.empty();
  }
}
