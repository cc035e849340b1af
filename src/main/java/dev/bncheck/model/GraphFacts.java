package dev.bncheck.model;

import java.util.List;

/**
 * How a BN layer appears in the graph the chosen signature runs.
 *
 * @param nodes every node that computes this layer (Keras and TF1 graphs can hold several
 *     copies), with the functions they run in
 * @param op the op or pattern, e.g. {@code FusedBatchNormV3} or {@code Rsqrt pattern}
 * @param trainingModeNodes the nodes among them that normalize with the batch's own statistics
 */
public record GraphFacts(List<String> nodes, String op, List<String> trainingModeNodes) {

  public GraphFacts {
    nodes = List.copyOf(nodes);
    trainingModeNodes = List.copyOf(trainingModeNodes);
  }

  public boolean trainingMode() {
    return !trainingModeNodes.isEmpty();
  }
}
