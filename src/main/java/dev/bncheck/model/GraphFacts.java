package dev.bncheck.model;

import java.util.List;
import java.util.Optional;

/**
 * How a BN layer appears in the graph the chosen signature runs.
 *
 * @param nodes every node that computes this layer (Keras and TF1 graphs can hold several
 *     copies), with the functions they run in
 * @param op the op or pattern, e.g. {@code FusedBatchNormV3} or {@code Rsqrt pattern}
 * @param trainingModeNodes the nodes among them that normalize with the batch's own statistics
 * @param unsharedTraining a training-mode node of the same layer, in a branch the run does not
 *     take, that reads a different set of variables
 * @param choosingInputs when every training-mode node runs only as a signature input chooses (a
 *     plain {@code is_training} the caller feeds), those inputs, sorted; else empty
 */
public record GraphFacts(List<String> nodes, String op, List<String> trainingModeNodes,
    Optional<UnsharedTraining> unsharedTraining, List<String> choosingInputs) {

  public GraphFacts(List<String> nodes, String op, List<String> trainingModeNodes) {
    this(nodes, op, trainingModeNodes, Optional.empty(), List.of());
  }

  public GraphFacts {
    nodes = List.copyOf(nodes);
    trainingModeNodes = List.copyOf(trainingModeNodes);
    choosingInputs = List.copyOf(choosingInputs);
  }

  public boolean trainingMode() {
    return !trainingModeNodes.isEmpty();
  }

  /**
   * The training branch's own set of BN variables, where the serving branch reads another.
   *
   * @param node the training-mode node
   * @param servingVariables the variables the serving node reads
   * @param trainingVariables the variables the training node reads (and training updates)
   * @param trainingMovingMean the training set's moving mean, or empty when it could not be read
   * @param trainingMovingVariance the training set's moving variance, or empty
   */
  public record UnsharedTraining(String node, List<String> servingVariables, List<String> trainingVariables,
      double[] trainingMovingMean, double[] trainingMovingVariance) {}
}
