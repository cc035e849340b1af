package dev.bncheck.load.tensorflow;

import org.tensorflow.proto.NodeDef;

/** Where a tensor that a BN node reads comes from, traced back through reads and calls. */
sealed interface Origin {

  /** A short description for messages and for telling two parameter sets apart. */
  String describe();

  /** A constant in the graph (frozen graphs, or the epsilon of the decomposed pattern). */
  record Constant(CallContext context, NodeDef node) implements Origin {
    @Override
    public String describe() {
      return "constant " + context.describe(node.getName());
    }
  }

  /**
   * A variable: a top-level {@code VarHandleOp} (TF2), or a {@code VariableV2} (TF1).
   *
   * @param name the variable's name as its user knows it (its shared name, or the node name)
   * @param node the top-level node that holds it, read through the session
   */
  record Variable(String name, String node, String op) implements Origin {
    @Override
    public String describe() {
      return "variable " + name;
    }
  }

  /** Computed in the graph, e.g. the batch mean that {@code tf.nn.moments} takes of the input. */
  record Computed(CallContext context, NodeDef node) implements Origin {
    @Override
    public String describe() {
      return node.getOp() + " " + context.describe(node.getName());
    }
  }

  /** Could not be followed, and why. */
  record Unresolved(String reason) implements Origin {
    @Override
    public String describe() {
      return "unresolved (" + reason + ")";
    }
  }
}
