package dev.bncheck.load.tensorflow;

import dev.bncheck.model.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * The steps of a padded sequence input that a Keras model masks: a {@code Masking(value)} layer
 * keeps a step where any of its features differs from the value, an {@code Embedding} with
 * {@code mask_zero=True} where its id is not 0. Keras's BatchNormalization leaves masked steps out
 * of its batch moments, so its moving statistics never saw the padding, and moments taken over
 * every step differ from them in a healthy model (an outside tester's masked models failed at
 * every calibration size). At inference the BN layers ignore the mask, so the graph no longer says
 * which of them it reaches: the steps are recomputed from the data as Keras computes them, and
 * applied to the BN layers it reaches ({@link #reached}) whose input keeps the input's steps on
 * its second axis.
 *
 * @param input the signature input the mask is computed from
 * @param rule how a step is kept
 * @param value the padding value
 * @param maskNodes by function (the top level as ""), the comparisons that compute the mask
 */
record KerasMask(ModelRunner.Input input, Rule rule, double value, Map<String, Set<String>> maskNodes) {

  KerasMask {
    Map<String, Set<String>> copy = new HashMap<>();
    maskNodes.forEach((scope, nodes) -> copy.put(scope, Set.copyOf(nodes)));
    maskNodes = Map.copyOf(copy);
  }

  /** How Keras decides that a step is kept. */
  enum Rule {
    /** {@code Masking(value)}: any feature of the step differs from the value. */
    ANY_FEATURE_DIFFERS,
    /** {@code Embedding(mask_zero=True)}: the step's id differs from the value (0). */
    ID_DIFFERS
  }

  /**
   * What the graph says of masks.
   *
   * @param masks the masks to apply, one per input at most
   * @param notApplied why masks found in the graph are not applied, or null
   */
  record Detection(List<KerasMask> masks, String notApplied) {

    Detection {
      masks = List.copyOf(masks);
    }
  }

  private static final Detection NONE = new Detection(List.of(), null);

  /**
   * The masks the graph computes from its inputs: each comparison is traced to the signature
   * input it reads, through the calls that lead to the BN nodes' functions; where one cannot be
   * traced, it belongs to the one input of its kind (float [batch, steps, features] for Masking,
   * integer [batch, steps] for ids). Masks of one input that disagree, or comparisons no input can
   * be found for, are not applied, and the detection says why.
   */
  static Detection detect(TfGraph graph, List<ModelRunner.Input> inputs, String file, List<BnNode> bnNodes) {
    TensorValues constants = new TensorValues(file);
    Map<String, CallContext> contexts = new HashMap<>();
    bnNodes.forEach(n -> contexts.putIfAbsent(n.context().scope().name(), n.context()));
    contexts.putIfAbsent(graph.topLevel().name(), CallContext.root(graph.topLevel()));
    List<GraphScope> scopes = new ArrayList<>(graph.functions());
    scopes.add(graph.topLevel());
    // each input's mask as first found, and the comparisons found for it by function
    Map<ModelRunner.Input, KerasMask> masks = new LinkedHashMap<>();
    Map<ModelRunner.Input, Map<String, Set<String>>> nodes = new HashMap<>();
    for (GraphScope scope : scopes) {
      for (NodeDef node : scope.nodes()) {
        if (!node.getOp().equals("NotEqual") || node.getInputCount() < 2) {
          continue;
        }
        Optional<Comparison> compared = comparison(scope, node, constants);
        Rule rule = reducedOverFeatures(scope, node) ? Rule.ANY_FEATURE_DIFFERS : integer(node) ? Rule.ID_DIFFERS : null;
        if (compared.isEmpty() || rule == null) {
          continue;
        }
        CallContext context = contexts.get(scope.name());
        Optional<ModelRunner.Input> input = inputOf(compared.get().read(), context, inputs)
            .or(() -> onlyInputOf(rule, inputs));
        if (input.isEmpty() && context == null) {
          // a function no BN node runs in (another trace of the model): its masks reach none
          continue;
        }
        if (input.isEmpty() || !reads(rule, input.get())) {
          return new Detection(List.of(), "a mask whose input is not found");
        }
        KerasMask known = masks.computeIfAbsent(input.get(),
            i -> new KerasMask(i, rule, compared.get().value(), new HashMap<>()));
        if (known.rule != rule || known.value != compared.get().value()) {
          return new Detection(List.of(), "masks of different kinds or padding values on " + input.get().key());
        }
        nodes.computeIfAbsent(input.get(), i -> new HashMap<>())
            .computeIfAbsent(scope.name(), k -> new HashSet<>()).add(node.getName());
      }
    }
    return masks.isEmpty() ? NONE : new Detection(masks.values().stream()
        .map(m -> new KerasMask(m.input, m.rule, m.value, nodes.get(m.input))).toList(), null);
  }

  /** A NotEqual of a function argument or placeholder ({@code read}) with a scalar constant. */
  private record Comparison(String read, double value) {}

  /** The signature input a function argument or top-level node is fed from, through the calls of {@code context}. */
  private static Optional<ModelRunner.Input> inputOf(String read, CallContext context, List<ModelRunner.Input> inputs) {
    String name = read;
    for (CallContext c = context; c != null; c = c.caller()) {
      if (c.callNode() == null) {
        String node = name;
        return inputs.stream().filter(i -> GraphScope.Ref.parse(i.tensor()).node().equals(node)).findFirst();
      }
      int argument = c.scope().argumentIndex(name);
      int at = argument + c.argumentOffset();
      if (argument < 0 || !c.plainCall() || at >= c.callNode().getInputCount()) {
        return Optional.empty();
      }
      name = GraphScope.Ref.parse(c.callNode().getInput(at)).node();
    }
    return Optional.empty();
  }

  private static Optional<ModelRunner.Input> onlyInputOf(Rule rule, List<ModelRunner.Input> inputs) {
    List<ModelRunner.Input> candidates = inputs.stream().filter(i -> reads(rule, i)).toList();
    return candidates.size() == 1 ? Optional.of(candidates.get(0)) : Optional.empty();
  }

  /**
   * The positions in {@code bnNodes} of the nodes the mask reaches: those in whose function
   * something downstream of their output reads the mask or what is computed from it alone, as a
   * masked pooling or a recurrent layer does. Keras passes a mask on from layer to layer; a layer
   * that does not support masking (a Conv1D) drops it, and the BN layers after it trained on every
   * step (an outside tester's model). A comparison with a constant that is no Keras mask (a
   * Lambda's {@code x != 0} as a feature) is read upstream of the BN layers only. Each function's
   * consumers and the tensors that carry its mask are found once, for all its BN nodes.
   */
  Set<Integer> reached(List<BnNode> bnNodes) {
    Set<Integer> reached = new HashSet<>();
    Map<String, List<Integer>> byScope = new HashMap<>();
    for (int i = 0; i < bnNodes.size(); i++) {
      byScope.computeIfAbsent(bnNodes.get(i).context().scope().name(), k -> new ArrayList<>()).add(i);
    }
    byScope.forEach((scopeName, positions) -> {
      Set<String> masks = maskNodes.get(scopeName);
      if (masks == null) {
        return;
      }
      GraphScope scope = bnNodes.get(positions.get(0)).context().scope();
      Map<String, List<NodeDef>> consumers = new HashMap<>();
      for (NodeDef n : scope.nodes()) {
        for (String in : n.getInputList()) {
          consumers.computeIfAbsent(GraphScope.Ref.parse(in).node(), k -> new ArrayList<>()).add(n);
        }
      }
      Set<String> carried = new HashSet<>(masks);
      Deque<String> pending = new ArrayDeque<>(masks);
      while (!pending.isEmpty()) {
        for (NodeDef next : consumers.getOrDefault(pending.pop(), List.of())) {
          if (fromMaskAlone(scope, next, carried) && carried.add(next.getName())) {
            pending.push(next.getName());
          }
        }
      }
      for (int i : positions) {
        if (readDownstream(GraphScope.Ref.parse(bnNodes.get(i).output()).node(), consumers, carried)) {
          reached.add(i);
        }
      }
    });
    return reached;
  }

  /** Whether a node downstream of {@code start} reads one of the {@code carried} tensors. */
  private static boolean readDownstream(String start, Map<String, List<NodeDef>> consumers, Set<String> carried) {
    Set<String> downstream = new HashSet<>();
    Deque<String> pending = new ArrayDeque<>(List.of(start));
    while (!pending.isEmpty()) {
      for (NodeDef next : consumers.getOrDefault(pending.pop(), List.of())) {
        if (!downstream.add(next.getName())) {
          continue;
        }
        for (String in : next.getInputList()) {
          if (carried.contains(GraphScope.Ref.parse(in).node())) {
            return true;
          }
        }
        pending.push(next.getName());
      }
    }
    return false;
  }

  /** The steps per sample, or -1 where the input's shape leaves them open. */
  int steps() {
    return (int) input.shape().getDim(1).getSize();
  }

  /** What Keras keeps of the data given for the input: [samples, steps] of 1 (kept) and 0. */
  Tensor.Float32 keptSteps(Tensor data) {
    int[] shape = data.shape();
    int samples = shape[0];
    int steps = shape[1];
    int features = rule == Rule.ANY_FEATURE_DIFFERS ? shape[2] : 1;
    float[] kept = new float[samples * steps];
    for (int s = 0; s < kept.length; s++) {
      for (int f = 0; f < features; f++) {
        // NaN differs from every value, as it does for TensorFlow's NotEqual
        if (data.get(s * features + f) != value) {
          kept[s] = 1;
          break;
        }
      }
    }
    return new Tensor.Float32(new int[] {samples, steps}, kept);
  }

  /** What the report says of the masks applied. */
  static String describe(Collection<KerasMask> applied) {
    List<String> masks = applied.stream().sorted(Comparator.comparing(m -> m.input.key()))
        .map(m -> (m.rule == Rule.ANY_FEATURE_DIFFERS ? "Masking(" + m.value + ")"
        : "Embedding(mask_zero=True)") + " on " + m.input.key()).toList();
    return "the steps the model's " + String.join(" and ", masks) + (masks.size() == 1 ? " masks" : " mask")
        + " left out of the BN layers " + (masks.size() == 1 ? "it reaches" : "each reaches")
        + ", as Keras leaves them out; each kept step counts as a sample";
  }

  /** What the report says of masks found and not applied. */
  static String describeNotApplied(String why) {
    return "the model masks padded steps, but not in a way bncheck follows (" + why + "): BN layers behind a mask"
        + " are judged on every step, the padding Keras left out of their statistics included";
  }

  /** The comparison of a function argument or placeholder with a scalar constant, if the NotEqual is one. */
  private static Optional<Comparison> comparison(GraphScope scope, NodeDef notEqual, TensorValues constants) {
    for (int side = 0; side < 2; side++) {
      NodeDef constant = scope.node(beforeCasts(scope, notEqual.getInput(side)));
      String other = beforeCasts(scope, notEqual.getInput(1 - side));
      NodeDef otherNode = scope.node(other);
      boolean readsInput = scope.argumentIndex(other) >= 0
          || (otherNode != null && otherNode.getOp().equals("Placeholder"));
      if (constant != null && constant.getOp().equals("Const") && readsInput) {
        return constants.scalar(constant).map(v -> new Comparison(other, v));
      }
    }
    return Optional.empty();
  }

  /**
   * The node a tensor comes from before any casts: Keras casts the padding value to a float64
   * model's type, and a mixed-precision model's input to float16, before comparing them.
   */
  private static String beforeCasts(GraphScope scope, String tensor) {
    String name = GraphScope.Ref.parse(tensor).node();
    for (int hops = 0; hops < 4; hops++) {
      NodeDef node = scope.node(name);
      if (node == null || !(node.getOp().equals("Cast") || node.getOp().equals("Identity"))
          || node.getInputCount() < 1) {
        break;
      }
      name = GraphScope.Ref.parse(node.getInput(0)).node();
    }
    return name;
  }

  /** Whether an Any over the last axis reads the comparison: Keras's Masking. */
  private static boolean reducedOverFeatures(GraphScope scope, NodeDef notEqual) {
    for (NodeDef node : scope.nodes()) {
      if (node.getOp().equals("Any") && node.getInputCount() >= 1
          && GraphScope.Ref.parse(node.getInput(0)).node().equals(notEqual.getName())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a node computes from the mask and constants alone (a cast, a slice, the lengths a
   * recurrent layer takes, a loop's list of mask steps): it carries the mask on, where a node
   * that also reads activations uses it.
   */
  private static boolean fromMaskAlone(GraphScope scope, NodeDef node, Set<String> carried) {
    for (String in : node.getInputList()) {
      if (in.startsWith("^")) {
        continue;
      }
      String name = GraphScope.Ref.parse(in).node();
      NodeDef input = scope.node(name);
      if (!carried.contains(name) && (input == null || !input.getOp().equals("Const"))) {
        return false;
      }
    }
    return true;
  }

  private static boolean integer(NodeDef notEqual) {
    var type = notEqual.getAttrMap().get("T");
    return type != null && (type.getType() == DataType.DT_INT32 || type.getType() == DataType.DT_INT64);
  }

  private static boolean reads(Rule rule, ModelRunner.Input input) {
    int rank = input.shape().getUnknownRank() ? -1 : input.shape().getDimCount();
    boolean floats = input.dtype() == DataType.DT_FLOAT || input.dtype() == DataType.DT_DOUBLE;
    boolean integers = input.dtype() == DataType.DT_INT32 || input.dtype() == DataType.DT_INT64;
    return rule == Rule.ANY_FEATURE_DIFFERS ? floats && rank == 3 : integers && rank == 2;
  }
}
