package dev.bncheck.load.tensorflow;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * Which nodes of TF1 control flow ({@code tf.cond}: Switch and Merge) a run does not execute.
 * A Switch passes its input to one output only, chosen by its predicate; when the predicate is
 * fixed for the run — a constant, or a {@code PlaceholderWithDefault} such as Keras'
 * learning phase that the signature does not feed — everything that depends on the other output
 * is dead, up to the Merge that joins the branches; so is a predicate the run feeds one value
 * for every batch ({@code --inputs is_training=false}). This keeps the training branch of a
 * {@code tf.cond(is_training, ...)} from counting as part of the inference graph.
 */
final class DeadBranches {

  private final TfGraph graph;
  private final TensorValues constants;
  private final Map<String, String> fedTensors;
  private final Map<String, Double> fixedFeeds;
  private final Map<String, Boolean> dead = new HashMap<>();

  /**
   * @param fedTensors the top-level nodes the run feeds (signature inputs), whose defaults do not
   *     apply, with the input's name for the user
   * @param fixedFeeds the fed nodes that get one value for the whole run ({@code is_training=false}, {@code mode=0})
   */
  DeadBranches(TfGraph graph, TensorValues constants, Map<String, String> fedTensors, Map<String, Double> fixedFeeds) {
    this.graph = graph;
    this.constants = constants;
    this.fedTensors = fedTensors;
    this.fixedFeeds = fixedFeeds;
  }

  /**
   * Whether a node is cut off by a Switch whose predicate is fixed, or lies in the branch of an
   * If whose predicate is fixed that the run does not take (TF2's {@code tf.cond}).
   */
  boolean isDead(CallContext context, NodeDef node) {
    if (context.caller() == null) {
      return deadNode(node.getName(), 0);
    }
    for (CallContext c = context; c.caller() != null; c = c.caller()) {
      NodeDef call = c.callNode();
      if (c.caller().caller() == null && deadNode(call.getName(), 0)) {
        return true;
      }
      if (Boolean.FALSE.equals(takesBranch(c))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether every call on the way to this context runs its function whenever its caller runs: plain
   * calls, and the branch of an If whose predicate is fixed for the run and takes it. A node there
   * computes on every sample, so a copy of it outside the If computes what the run computes.
   */
  boolean alwaysTaken(CallContext context) {
    for (CallContext c = context; c.caller() != null; c = c.caller()) {
      if (c.plainCall()) {
        continue;
      }
      if (!Boolean.TRUE.equals(takesBranch(c))) {
        return false;
      }
    }
    return true;
  }

  /**
   * The fed input whose value chooses whether a live node runs: the predicate of a Switch on the
   * way to it, or of an If whose branch it is in, is a signature input the run does not fix (a
   * plain {@code is_training} placeholder the caller feeds); empty when no such choice decides it.
   */
  Optional<String> choosingInput(CallContext context, String node) {
    for (CallContext c = context; c.caller() != null; c = c.caller()) {
      NodeDef call = c.callNode();
      if (call.getOp().equals("If") || call.getOp().equals("StatelessIf")) {
        List<String> inputs = OriginTracer.dataInputs(call);
        Optional<String> fed = inputs.isEmpty() ? Optional.empty() : fedPredicate(c.caller(), inputs.get(0), 0);
        if (fed.isPresent()) {
          return fed;
        }
      }
      if (c.caller().caller() == null) {
        return switchedBy(call.getName());
      }
    }
    return switchedBy(node);
  }

  /** The fed, unfixed predicate of a Switch a top-level node depends on without a Merge between them. */
  private Optional<String> switchedBy(String start) {
    java.util.ArrayDeque<String> pending = new java.util.ArrayDeque<>(List.of(start));
    Set<String> seen = new java.util.HashSet<>();
    while (!pending.isEmpty() && seen.size() < MAX_SWITCH_WALK) {
      String name = pending.pop();
      NodeDef node = graph.topLevel().node(name);
      if (node == null || !seen.add(name) || node.getOp().equals("Merge") || node.getOp().equals("RefMerge")) {
        continue;
      }
      if (node.getOp().equals("Switch") || node.getOp().equals("RefSwitch")) {
        List<String> inputs = OriginTracer.dataInputs(node);
        Optional<String> fed = inputs.size() < 2 ? Optional.empty()
            : fedPredicate(CallContext.root(graph.topLevel()), inputs.get(1), 0);
        if (fed.isPresent()) {
          return fed;
        }
      }
      OriginTracer.dataInputs(node).forEach(i -> pending.push(GraphScope.Ref.parse(i).node()));
    }
    return Optional.empty();
  }

  /** The nodes a search for a choosing Switch visits at most: a branch's ops, not a whole network's. */
  private static final int MAX_SWITCH_WALK = 10_000;

  /** The signature input a boolean tensor is, through Identity and function arguments, when the run does not fix it. */
  private Optional<String> fedPredicate(CallContext context, String reference, int depth) {
    GraphScope.Ref ref = GraphScope.Ref.parse(reference);
    if (depth > 100) {
      return Optional.empty();
    }
    int arg = context.scope().argumentIndex(ref.node());
    if (arg >= 0) {
      List<String> callInputs = OriginTracer.dataInputs(context.callNode());
      int at = arg + context.argumentOffset();
      return at >= callInputs.size() ? Optional.empty() : fedPredicate(context.caller(), callInputs.get(at), depth + 1);
    }
    NodeDef node = context.scope().node(ref.node());
    if (node == null) {
      return Optional.empty();
    }
    if (context.caller() == null && fedTensors.containsKey(node.getName())) {
      return fixedFeeds.containsKey(node.getName()) ? Optional.empty()
          : Optional.of(fedTensors.get(node.getName()));
    }
    List<String> inputs = OriginTracer.dataInputs(node);
    if (node.getOp().equals("Identity") || node.getOp().equals("LogicalNot") || node.getOp().equals("Cast")) {
      return fedPredicate(context, inputs.get(0), depth + 1);
    }
    if (COMPARISONS.contains(node.getOp())) {
      for (String input : inputs) {
        Optional<String> fed = fedPredicate(context, input, depth + 1);
        if (fed.isPresent()) {
          return fed;
        }
      }
    }
    return Optional.empty();
  }

  /**
   * For a context entered through an If: whether the If's predicate, fixed for the run, takes
   * this branch (true) or the other (false); null when the call is no If or its predicate is not
   * fixed.
   */
  private Boolean takesBranch(CallContext c) {
    NodeDef call = c.callNode();
    if (!call.getOp().equals("If") && !call.getOp().equals("StatelessIf")) {
      return null;
    }
    List<String> inputs = OriginTracer.dataInputs(call);
    Boolean predicate = inputs.isEmpty() ? null : fixedValue(c.caller(), inputs.get(0), 0);
    var taken = predicate == null ? null : call.getAttrMap().get(predicate ? "then_branch" : "else_branch");
    return taken == null ? null : taken.getFunc().getName().equals(c.scope().name());
  }

  /** The value of a boolean tensor when the run cannot change it, else null: followed through function arguments. */
  private Boolean fixedValue(CallContext context, String reference, int depth) {
    GraphScope.Ref ref = GraphScope.Ref.parse(reference);
    int arg = context.scope().argumentIndex(ref.node());
    if (arg >= 0) {
      List<String> callInputs = OriginTracer.dataInputs(context.callNode());
      int at = arg + context.argumentOffset();
      return (depth > 100 || (!context.plainCall() && !context.callNode().getOp().endsWith("If")) || at >= callInputs.size())
          ? null : fixedValue(context.caller(), callInputs.get(at), depth + 1);
    }
    if (context.caller() == null) {
      return fixedTopLevel(ref.node());
    }
    NodeDef node = context.scope().node(ref.node());
    if (node == null || depth > 100) {
      return null;
    }
    return switch (node.getOp()) {
      case "Identity" -> OriginTracer.dataInput(node, 0).map(i -> fixedValue(context, i, depth + 1)).orElse(null);
      case "Const" -> constants.scalar(node).map(v -> v != 0).orElse(null);
      default -> null;
    };
  }

  private boolean deadNode(String name, int depth) {
    Boolean known = dead.get(name);
    if (known != null) {
      return known;
    }
    NodeDef node = graph.topLevel().node(name);
    if (node == null || depth > 10_000) {
      return false;
    }
    dead.put(name, false);
    List<String> inputs = OriginTracer.dataInputs(node);
    boolean result;
    if (node.getOp().equals("Merge") || node.getOp().equals("RefMerge")) {
      result = !inputs.isEmpty() && inputs.stream().allMatch(i -> deadTensor(i, depth + 1));
    } else {
      result = inputs.stream().anyMatch(i -> deadTensor(i, depth + 1));
    }
    dead.put(name, result);
    return result;
  }

  private boolean deadTensor(String input, int depth) {
    GraphScope.Ref ref = GraphScope.Ref.parse(input);
    NodeDef producer = graph.topLevel().node(ref.node());
    if (producer != null && (producer.getOp().equals("Switch") || producer.getOp().equals("RefSwitch"))) {
      Boolean predicate = fixedPredicate(producer);
      if (predicate != null && ref.index() != (predicate ? 1 : 0)) {
        return true;
      }
    }
    return deadNode(ref.node(), depth);
  }

  /** The Switch's predicate when the run cannot change it, else null. */
  private Boolean fixedPredicate(NodeDef switchNode) {
    List<String> inputs = OriginTracer.dataInputs(switchNode);
    return inputs.size() < 2 ? null : fixedTopLevel(GraphScope.Ref.parse(inputs.get(1)).node());
  }

  /** A top-level boolean node's value when the run cannot change it, else null. */
  private Boolean fixedTopLevel(String start) {
    Double value = fixedNumber(start, 0);
    return value == null ? null : value != 0;
  }

  /** The comparisons and logic tf.case and tf.cond build their predicates with from a mode input. */
  private static final Set<String> COMPARISONS =
      Set.of("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr");

  /**
   * A top-level scalar's value when the run cannot change it, else null: constants, fed values
   * fixed for the run, unfed defaults, and comparisons and logic of those ({@code mode == 0}).
   */
  private Double fixedNumber(String name, int depth) {
    NodeDef node = graph.topLevel().node(name);
    if (node == null || depth > 100) {
      return null;
    }
    if (fedTensors.containsKey(name)) {
      return fixedFeeds.get(name);
    }
    List<String> inputs = OriginTracer.dataInputs(node);
    String op = node.getOp();
    if (op.equals("Const")) {
      return constants.scalar(node).orElse(null);
    }
    if (op.equals("Identity") || op.equals("PlaceholderWithDefault") || op.equals("Cast") || op.equals("LogicalNot")) {
      Double in = inputs.isEmpty() ? null : fixedNumber(GraphScope.Ref.parse(inputs.get(0)).node(), depth + 1);
      if (in == null || !op.equals("LogicalNot")) {
        return in;
      }
      return in == 0 ? Double.valueOf(1) : Double.valueOf(0);
    }
    if (COMPARISONS.contains(op) && inputs.size() == 2) {
      Double a = fixedNumber(GraphScope.Ref.parse(inputs.get(0)).node(), depth + 1);
      Double b = fixedNumber(GraphScope.Ref.parse(inputs.get(1)).node(), depth + 1);
      if (a == null || b == null) {
        return null;
      }
      boolean result = switch (op) {
        case "Equal" -> a.doubleValue() == b.doubleValue();
        case "NotEqual" -> a.doubleValue() != b.doubleValue();
        case "Less" -> a < b;
        case "LessEqual" -> a <= b;
        case "Greater" -> a > b;
        case "GreaterEqual" -> a >= b;
        case "LogicalAnd" -> a != 0 && b != 0;
        default -> a != 0 || b != 0;
      };
      return result ? 1.0 : 0.0;
    }
    return null;
  }
}
