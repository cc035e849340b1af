package dev.bncheck.load.tensorflow;

import org.tensorflow.proto.NodeDef;

/**
 * Where a node runs: the top-level graph, or a function entered through a call node of the
 * caller's context. Function arguments are resolved through the call node's inputs.
 */
record CallContext(GraphScope scope, NodeDef callNode, CallContext caller) {

  static CallContext root(GraphScope topLevel) {
    return new CallContext(topLevel, null, null);
  }

  CallContext enter(GraphScope function, NodeDef call) {
    return new CallContext(function, call, this);
  }

  /**
   * Where the function's arguments start among the call node's inputs: after the predicate of
   * If and the branch index of Case, at the first input otherwise.
   */
  int argumentOffset() {
    String op = callNode == null ? "" : callNode.getOp();
    return op.endsWith("If") || op.endsWith("Case") ? 1 : 0;
  }

  /** Whether the call node is a plain function call, whose inputs are the function's arguments one to one. */
  boolean plainCall() {
    String op = callNode == null ? "" : callNode.getOp();
    return !(op.endsWith("If") || op.endsWith("Case") || op.endsWith("While"));
  }

  /** The chain of functions, outermost first, for messages; empty in the top-level graph. */
  String path() {
    if (caller == null) {
      return "";
    }
    String outer = caller.path();
    return outer.isEmpty() ? scope.name() : outer + " > " + scope.name();
  }

  /** A node's name with the functions it runs in, e.g. {@code bn/FusedBatchNormV3 in f > g}. */
  String describe(String nodeName) {
    String p = path();
    return p.isEmpty() ? nodeName : nodeName + " in " + p;
  }
}
