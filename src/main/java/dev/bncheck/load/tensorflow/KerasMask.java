package dev.bncheck.load.tensorflow;

import dev.bncheck.model.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
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
 * applied to the BN layers it reaches ({@link #reaches}) whose input keeps the input's steps on
 * its second axis.
 *
 * @param input the signature input the mask is computed from
 * @param rule how a step is kept
 * @param value the padding value
 * @param maskNodes by function (the top level as ""), the comparisons that compute the mask
 */
record KerasMask(ModelRunner.Input input, Rule rule, double value, Map<String, Set<String>> maskNodes) {

  KerasMask {
    maskNodes = Map.copyOf(maskNodes);
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
   * @param mask the mask to apply, where there is one bncheck can follow
   * @param notApplied why masks found in the graph are not applied, or null
   */
  record Detection(Optional<KerasMask> mask, String notApplied) {}

  private static final Detection NONE = new Detection(Optional.empty(), null);

  /**
   * The mask the graph computes from one of its inputs, where exactly one input of the rule's
   * kind (float [batch, steps, features] for Masking, integer [batch, steps] for ids) can be the
   * one it reads and every mask in the graph agrees; otherwise why none is applied.
   */
  static Detection detect(TfGraph graph, List<ModelRunner.Input> inputs, String file) {
    TensorValues constants = new TensorValues(file);
    List<GraphScope> scopes = new ArrayList<>(graph.functions());
    scopes.add(graph.topLevel());
    Rule rule = null;
    Double value = null;
    Map<String, Set<String>> maskNodes = new HashMap<>();
    for (GraphScope scope : scopes) {
      for (NodeDef node : scope.nodes()) {
        if (!node.getOp().equals("NotEqual") || node.getInputCount() < 2) {
          continue;
        }
        Optional<Double> padding = padding(scope, node, constants);
        if (padding.isEmpty()) {
          continue;
        }
        Rule found = reducedOverFeatures(scope, node) ? Rule.ANY_FEATURE_DIFFERS
            : integer(node) ? Rule.ID_DIFFERS : null;
        if (found == null) {
          continue;
        }
        if ((rule != null && rule != found) || (value != null && !value.equals(padding.get()))) {
          return new Detection(Optional.empty(), "masks of different kinds or padding values");
        }
        rule = found;
        value = padding.get();
        maskNodes.computeIfAbsent(scope.name(), k -> new HashSet<>()).add(node.getName());
      }
    }
    if (rule == null) {
      return NONE;
    }
    Rule kind = rule;
    List<ModelRunner.Input> candidates = inputs.stream().filter(i -> reads(kind, i)).toList();
    if (candidates.size() != 1) {
      return new Detection(Optional.empty(), candidates.isEmpty() ? "no input of the mask's shape"
          : "masks on " + candidates.size() + " inputs, which bncheck cannot tell apart");
    }
    return new Detection(Optional.of(new KerasMask(candidates.get(0), rule, value, maskNodes)), null);
  }

  /** Ops that carry a mask on without mixing it with activations. */
  private static final Set<String> MASK_OPS = Set.of("Any", "All", "Cast", "ExpandDims", "Reshape", "Identity",
      "LogicalAnd", "LogicalOr", "Squeeze", "Tile", "StopGradient", "Transpose");

  /**
   * Whether the mask reaches the BN node: whether, in the node's function, something downstream
   * of its output reads the mask, as a masked pooling, a recurrent layer or a masked loss term
   * does. Keras passes a mask on from layer to layer; a layer that does not support masking (a
   * Conv1D) drops it, and the BN layers after it trained on every step (an outside tester's
   * model). A comparison with a constant that is no Keras mask (a Lambda's {@code x != 0} as a
   * feature) is read upstream of the BN layers only.
   */
  boolean reaches(BnNode node) {
    GraphScope scope = node.context().scope();
    Set<String> masks = maskNodes.get(scope.name());
    if (masks == null) {
      return false;
    }
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
        if (MASK_OPS.contains(next.getOp()) && carried.add(next.getName())) {
          pending.push(next.getName());
        }
      }
    }
    Set<String> downstream = new HashSet<>();
    pending.push(GraphScope.Ref.parse(node.output()).node());
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

  /** What the report says of the mask applied. */
  String describe() {
    return "the steps the model's " + (rule == Rule.ANY_FEATURE_DIFFERS ? "Masking(" + value + ")"
        : "Embedding(mask_zero=True)") + " on " + input.key() + " masks left out of the BN layers it reaches, as"
        + " Keras leaves them out; each kept step counts as a sample";
  }

  /** What the report says of masks found and not applied. */
  static String describeNotApplied(String why) {
    return "the model masks padded steps, but not in a way bncheck follows (" + why + "): BN layers behind a mask"
        + " are judged on every step, the padding Keras left out of their statistics included";
  }

  /** The scalar constant a NotEqual compares a function argument or placeholder with. */
  private static Optional<Double> padding(GraphScope scope, NodeDef notEqual, TensorValues constants) {
    for (int side = 0; side < 2; side++) {
      NodeDef constant = scope.node(GraphScope.Ref.parse(notEqual.getInput(side)).node());
      String other = GraphScope.Ref.parse(notEqual.getInput(1 - side)).node();
      NodeDef otherNode = scope.node(other);
      boolean readsInput = scope.argumentIndex(other) >= 0
          || (otherNode != null && otherNode.getOp().equals("Placeholder"));
      if (constant != null && constant.getOp().equals("Const") && readsInput) {
        return constants.scalar(constant);
      }
    }
    return Optional.empty();
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
