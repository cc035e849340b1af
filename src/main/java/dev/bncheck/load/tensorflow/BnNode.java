package dev.bncheck.load.tensorflow;

/**
 * One batch-normalization computation found in the graph: a FusedBatchNorm node, or the
 * decomposed pattern (variance + epsilon, Rsqrt, Mul by gamma, ...) that tf.nn.batch_normalization,
 * tf.layers with fused=False and Keras 3 produce.
 *
 * @param context where the node runs
 * @param node the node's name (the FusedBatchNorm node, or the pattern's Rsqrt)
 * @param input where the normalized tensor comes from, as written in the node's inputs
 * @param output the layer's output tensor, in the same notation
 * @param gamma null when the layer has no scale
 * @param beta null when the layer has no offset
 * @param training whether the node normalizes with the batch's own statistics
 * @param channelAxis -1 for channels last, 1 for NCHW
 * @param statistics for the decomposed pattern, the nodes that read the mean and the variance
 *     (to rewrite them to batch statistics); null for fused nodes
 */
record BnNode(
    CallContext context,
    String node,
    String op,
    String input,
    String output,
    Origin gamma,
    Origin beta,
    Origin mean,
    Origin variance,
    double epsilon,
    boolean training,
    int channelAxis,
    StatisticsReaders statistics) {

  /**
   * Where the decomposed pattern reads its statistics: input {@code meanInput} of node
   * {@code meanReader} (the mean × scale Mul, or the Neg of the mean without beta) and input {@code varianceInput} of node
   * {@code varianceReader} (the variance + epsilon Add).
   */
  record StatisticsReaders(String meanReader, int meanInput, String varianceReader, int varianceInput) {}

  String describe() {
    return context.describe(node);
  }
}
