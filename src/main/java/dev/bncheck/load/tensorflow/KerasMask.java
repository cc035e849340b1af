package dev.bncheck.load.tensorflow;

import dev.bncheck.model.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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
 * applied to every BN layer whose input keeps the input's steps on its second axis.
 *
 * @param input the signature input the mask is computed from
 * @param rule how a step is kept
 * @param value the padding value
 */
record KerasMask(ModelRunner.Input input, Rule rule, double value) {

  /** How Keras decides that a step is kept. */
  enum Rule {
    /** {@code Masking(value)}: any feature of the step differs from the value. */
    ANY_FEATURE_DIFFERS,
    /** {@code Embedding(mask_zero=True)}: the step's id differs from the value (0). */
    ID_DIFFERS
  }

  /**
   * The mask the graph computes from one of its inputs, where exactly one input of the rule's
   * kind (float [batch, steps, features] for Masking, integer [batch, steps] for ids) can be the
   * one it reads and every mask in the graph agrees; empty otherwise.
   */
  static Optional<KerasMask> find(TfGraph graph, List<ModelRunner.Input> inputs, String file) {
    TensorValues constants = new TensorValues(file);
    List<GraphScope> scopes = new ArrayList<>(graph.functions());
    scopes.add(graph.topLevel());
    Rule rule = null;
    Double value = null;
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
          return Optional.empty();
        }
        rule = found;
        value = padding.get();
      }
    }
    if (rule == null) {
      return Optional.empty();
    }
    Rule kind = rule;
    List<ModelRunner.Input> candidates = inputs.stream().filter(i -> reads(kind, i)).toList();
    return candidates.size() == 1 ? Optional.of(new KerasMask(candidates.get(0), rule, value)) : Optional.empty();
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

  /** How the report names it. */
  String describe() {
    return (rule == Rule.ANY_FEATURE_DIFFERS ? "Masking(" + value + ")" : "Embedding(mask_zero=True)") + " on "
        + input.key();
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
