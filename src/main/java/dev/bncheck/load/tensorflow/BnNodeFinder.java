package dev.bncheck.load.tensorflow;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;

/** Finds the BN computations among the nodes a run executes. */
final class BnNodeFinder {

  static final Set<String> FUSED_OPS = Set.of("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3");

  /**
   * Defaults of the fused ops' attributes. SavedModels leave out attributes equal to their
   * default, so a missing is_training means true. A test checks these against TensorFlow's
   * registered op definitions.
   */
  static final double DEFAULT_EPSILON = 1e-4;
  static final boolean DEFAULT_IS_TRAINING = true;
  static final String DEFAULT_DATA_FORMAT = "NHWC";

  private final OriginTracer tracer;
  private final TensorValues constants;
  private final IdentityHashMap<GraphScope, Map<String, List<NodeDef>>> consumers = new IdentityHashMap<>();
  /**
   * The nodes the run executes, per scope: only they count as consumers of a pattern's tensors. A
   * TF1 export keeps its training graph, whose gradient ops also multiply by the pattern's scale
   * and hid the input's product (the layer was not found).
   */
  private final IdentityHashMap<GraphScope, java.util.Set<String>> executed = new IdentityHashMap<>();

  private final DeadBranches deadBranches;

  BnNodeFinder(OriginTracer tracer, TensorValues constants, DeadBranches deadBranches) {
    this.tracer = tracer;
    this.constants = constants;
    this.deadBranches = deadBranches;
  }

  /**
   * The BN nodes a run executes, those in branches it does not take, the input that chooses
   * whether each live training-mode node runs (where the caller's value decides it), and the If
   * branches with a fixed predicate that live nodes run in (always taken, so their nodes can be
   * copied and fetched).
   */
  record Found(List<BnNode> live, List<BnNode> dead, Map<BnNode, String> choosingInputs,
      Set<CallContext> takenBranches) {}

  Found find(List<TfGraph.Reached> reached) {
    for (TfGraph.Reached r : reached) {
      executed.computeIfAbsent(r.context().scope(), s -> new HashSet<>()).add(r.node().getName());
    }
    List<BnNode> live = new ArrayList<>();
    List<BnNode> dead = new ArrayList<>();
    for (TfGraph.Reached r : reached) {
      List<BnNode> out = deadBranches.isDead(r.context(), r.node()) ? dead : live;
      String op = r.node().getOp();
      if (FUSED_OPS.contains(op)) {
        fused(r.context(), r.node()).ifPresent(out::add);
      } else if (op.equals("Rsqrt")) {
        decomposed(r.context(), r.node()).ifPresent(out::add);
      }
    }
    IdentityHashMap<BnNode, String> choosing = new IdentityHashMap<>();
    for (BnNode bn : live) {
      if (bn.training()) {
        deadBranches.choosingInput(bn.context(), bn.node()).ifPresent(input -> choosing.put(bn, input));
      }
    }
    Set<CallContext> taken = new HashSet<>();
    for (BnNode bn : live) {
      if (deadBranches.alwaysTaken(bn.context())) {
        for (CallContext c = bn.context(); c.caller() != null; c = c.caller()) {
          if (!c.plainCall()) {
            taken.add(c);
          }
        }
      }
    }
    return new Found(live, dead, choosing, taken);
  }

  private Optional<BnNode> fused(CallContext context, NodeDef node) {
    Optional<String> input = OriginTracer.dataInput(node, 0);
    if (input.isEmpty()) {
      return Optional.empty();
    }
    Map<String, AttrValue> attrs = node.getAttrMap();
    double epsilon = attrs.containsKey("epsilon") ? attrs.get("epsilon").getF() : DEFAULT_EPSILON;
    boolean training = attrs.containsKey("is_training") ? attrs.get("is_training").getB() : DEFAULT_IS_TRAINING;
    String format = attrs.containsKey("data_format") ? attrs.get("data_format").getS().toStringUtf8() : DEFAULT_DATA_FORMAT;
    String output = context.scope().isFunction() ? node.getName() + ":y:0" : node.getName() + ":0";
    return Optional.of(new BnNode(context, node.getName(), node.getOp(), input.get(), output,
        tracer.traceInput(context, node, 1), tracer.traceInput(context, node, 2),
        tracer.traceInput(context, node, 3), tracer.traceInput(context, node, 4),
        epsilon, training, format.startsWith("NC") ? 1 : -1, null));
  }

  /**
   * The decomposed pattern around an Rsqrt: {@code inv = rsqrt(variance + eps)}, optionally
   * {@code inv *= gamma}, then {@code y = x * inv + (beta - mean * inv)}. Anything else that
   * uses an Rsqrt (layer normalization, L2 normalization) does not match and is left alone.
   */
  private Optional<BnNode> decomposed(CallContext context, NodeDef rsqrt) {
    GraphScope scope = context.scope();
    NodeDef add = OriginTracer.dataInput(rsqrt, 0).map(i -> scope.node(GraphScope.Ref.parse(i).node())).orElse(null);
    if (add == null || !(add.getOp().equals("Add") || add.getOp().equals("AddV2"))) {
      return Optional.empty();
    }
    // variance + epsilon: epsilon is the scalar constant. When the variance is a one-channel
    // constant too, the rank-0 one is epsilon, and failing that the second operand, as
    // tf.nn.batch_normalization writes it.
    Origin first = tracer.traceInput(context, add, 0);
    Origin second = tracer.traceInput(context, add, 1);
    int firstRank = epsilonRank(first);
    int secondRank = epsilonRank(second);
    int epsilonSide;
    if (secondRank >= 0 && (firstRank < 0 || secondRank <= firstRank)) {
      epsilonSide = 1;
    } else if (firstRank >= 0) {
      epsilonSide = 0;
    } else {
      return Optional.empty();
    }
    Origin.Constant epsilonNode = (Origin.Constant) (epsilonSide == 1 ? second : first);
    Double epsilon = constants.scalar(epsilonNode.node()).orElse(null);
    Origin variance = epsilonSide == 1 ? first : second;
    if (epsilon == null || variance == null) {
      return Optional.empty();
    }
    NodeDef scaled = rsqrt;
    Origin gamma = null;
    for (NodeDef mul : consumers(scope, rsqrt.getName(), "Mul")) {
      Origin other = tracer.traceInput(context, mul, otherInput(mul, rsqrt.getName()));
      // Without gamma (scale=False), mean × inv is a Mul by a parameter too; only gamma × inv
      // goes on to scale the input and the mean
      if (isParameter(other) && !consumers(scope, mul.getName(), "Mul").isEmpty() && !feedsOffset(scope, mul)) {
        gamma = other;
        scaled = mul;
        break;
      }
    }
    String input = null;
    NodeDef inputTimesScale = null;
    Origin mean = null;
    NodeDef meanTimesScale = null;
    String meanReader = null;
    int meanInput = -1;
    for (NodeDef mul : consumers(scope, scaled.getName(), "Mul")) {
      int other = otherInput(mul, scaled.getName());
      NodeDef negated = scope.node(GraphScope.Ref.parse(OriginTracer.dataInputs(mul).get(other)).node());
      if (feedsOffset(scope, mul)) {
        mean = tracer.traceInput(context, mul, other);
        meanTimesScale = mul;
        meanReader = mul.getName();
        meanInput = other;
      } else if (negated != null && negated.getOp().equals("Neg")) {
        // Without beta (center=False), tf.nn.batch_normalization and Keras 3 add -mean × inv
        mean = tracer.traceInput(context, negated, 0);
        meanTimesScale = mul;
        meanReader = negated.getName();
        meanInput = 0;
      } else {
        input = OriginTracer.dataInputs(mul).get(other);
        inputTimesScale = mul;
      }
    }
    if (input == null || mean == null) {
      return Optional.empty();
    }
    Origin beta = null;
    for (NodeDef sub : consumers(scope, meanTimesScale.getName(), "Sub")) {
      if (GraphScope.Ref.parse(OriginTracer.dataInputs(sub).get(1)).node().equals(meanTimesScale.getName())) {
        beta = tracer.traceInput(context, sub, 0);
      }
    }
    List<NodeDef> sums = new ArrayList<>(consumers(scope, inputTimesScale.getName(), "Add"));
    sums.addAll(consumers(scope, inputTimesScale.getName(), "AddV2"));
    if (sums.isEmpty()) {
      return Optional.empty();
    }
    String output = sums.get(0).getName() + (scope.isFunction() ? ":z:0" : ":0");
    boolean training = !isParameter(mean) || !isParameter(variance);
    if (training && !reducesOverBatch(mean)) {
      // Moments over the feature axes only: layer or instance normalization, not BN.
      return Optional.empty();
    }
    return Optional.of(new BnNode(context, rsqrt.getName(), "Rsqrt pattern", input, output, gamma, beta, mean, variance,
        epsilon, training, broadcastAxis(context, add, epsilonSide == 1 ? 0 : 1),
        new BnNode.StatisticsReaders(meanReader, meanInput, add.getName(), epsilonSide == 1 ? 0 : 1)));
  }

  /**
   * The channel axis of the decomposed pattern: the statistics broadcast along the last axis
   * unless they were reshaped first, as tf.layers does for channels-first data ({@code [1, C, 1, 1]}).
   */
  private int broadcastAxis(CallContext context, NodeDef add, int varianceInput) {
    GraphScope scope = context.scope();
    NodeDef node = OriginTracer.dataInput(add, varianceInput).map(i -> scope.node(GraphScope.Ref.parse(i).node()))
        .orElse(null);
    while (node != null && (node.getOp().equals("Identity") || node.getOp().equals("ReadVariableOp"))) {
      node = OriginTracer.dataInput(node, 0).map(i -> scope.node(GraphScope.Ref.parse(i).node())).orElse(null);
    }
    if (node == null || !node.getOp().equals("Reshape")) {
      return -1;
    }
    Origin shape = tracer.traceInput(context, node, 1);
    if (!(shape instanceof Origin.Constant c)) {
      return -1;
    }
    double[] dims = constants.values(c.node());
    int axis = -1;
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] != 1) {
        axis = axis == -1 ? i : -2;
      }
    }
    return axis < 0 || axis == dims.length - 1 ? -1 : axis;
  }

  /** The rank of a one-value constant, or -1 when the origin is not one. */
  private int epsilonRank(Origin o) {
    if (!(o instanceof Origin.Constant c) || constants.scalar(c.node()).isEmpty()) {
      return -1;
    }
    return c.node().getAttrMap().get("value").getTensor().getTensorShape().getDimCount();
  }

  /** Whether a computed mean is a reduction that includes axis 0, the batch axis. */
  private boolean reducesOverBatch(Origin mean) {
    if (!(mean instanceof Origin.Computed computed) || !computed.node().getOp().equals("Mean")) {
      return false;
    }
    Origin axes = tracer.traceInput(computed.context(), computed.node(), 1);
    if (!(axes instanceof Origin.Constant c)) {
      return false;
    }
    for (double axis : constants.values(c.node())) {
      if (axis == 0) {
        return true;
      }
    }
    return false;
  }

  /** Whether a product is subtracted from beta or negated: mean × inv, the offset's part. */
  private boolean feedsOffset(GraphScope scope, NodeDef mul) {
    return !consumers(scope, mul.getName(), "Sub").isEmpty() || !consumers(scope, mul.getName(), "Neg").isEmpty();
  }

  private static boolean isParameter(Origin o) {
    return o instanceof Origin.Variable || o instanceof Origin.Constant;
  }

  private static int otherInput(NodeDef binary, String known) {
    List<String> inputs = OriginTracer.dataInputs(binary);
    return GraphScope.Ref.parse(inputs.get(0)).node().equals(known) ? 1 : 0;
  }

  private List<NodeDef> consumers(GraphScope scope, String producer, String op) {
    Map<String, List<NodeDef>> index = consumers.computeIfAbsent(scope, s -> {
      Map<String, List<NodeDef>> byProducer = new HashMap<>();
      for (NodeDef node : s.nodes()) {
        for (String in : OriginTracer.dataInputs(node)) {
          byProducer.computeIfAbsent(GraphScope.Ref.parse(in).node(), k -> new ArrayList<>()).add(node);
        }
      }
      return byProducer;
    });
    java.util.Set<String> run = executed.getOrDefault(scope, java.util.Set.of());
    // the pattern's ops are binary; a hostile graph's one-input Mul or Sub is none of its nodes
    return index.getOrDefault(producer, List.of()).stream()
        .filter(n -> n.getOp().equals(op) && run.contains(n.getName()) && OriginTracer.dataInputs(n).size() >= 2)
        .toList();
  }
}
