package dev.bncheck.load.onnx;

/**
 * Bounds on what bncheck reads and hands to ONNX Runtime: generous for real models (ResNet-50
 * has 122 nodes, large transformers some tens of thousands), small enough that a hostile file
 * cannot exhaust the stack or the heap.
 */
final class OnnxLimits {

  /** Nodes in the model, subgraphs included. */
  static final int MAX_NODES = 500_000;

  /** Graphs inside graphs (If branches, Loop and Scan bodies): each level is a recursion in the reader. */
  static final int MAX_GRAPH_NESTING = 16;

  /**
   * The model file plus its external data: protobuf's own limit for one message, which the copy
   * handed to ONNX Runtime is (external data is read into it).
   */
  static final long MAX_MODEL_BYTES = Integer.MAX_VALUE - 8;

  private OnnxLimits() {}
}
