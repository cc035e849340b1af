package dev.bncheck.model;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * One batch-normalization layer as every loader describes it, whatever the framework.
 *
 * <p>Parameter arrays have one value per channel. A layer without a learned scale or offset
 * ({@code scale=False}/{@code center=False}, or {@code affine=False}) carries ones and zeros and
 * says so through {@link #hasGamma()} and {@link #hasBeta()}. Arrays are shared, not copied:
 * loaders build them once and nothing downstream writes to them.
 *
 * @param name the layer's name as its user knows it
 * @param origin where the layer was found, for messages (a JSON path or a graph node name)
 * @param channelAxis the channel axis of its activations; negative counts from the end
 * @param momentumConvention the convention of {@code momentum}; null when momentum is unknown
 * @param graph how the layer appears in a TensorFlow graph; empty for dumps
 */
public record BnLayer(
    String name,
    String origin,
    int channelAxis,
    double epsilon,
    OptionalDouble momentum,
    MomentumConvention momentumConvention,
    OptionalLong numBatchesTracked,
    double[] gamma,
    boolean hasGamma,
    double[] beta,
    boolean hasBeta,
    double[] movingMean,
    double[] movingVariance,
    Optional<GraphFacts> graph) {

  /** A layer that did not come from a graph (a dump). */
  public BnLayer(
      String name,
      String origin,
      int channelAxis,
      double epsilon,
      OptionalDouble momentum,
      MomentumConvention momentumConvention,
      OptionalLong numBatchesTracked,
      double[] gamma,
      boolean hasGamma,
      double[] beta,
      boolean hasBeta,
      double[] movingMean,
      double[] movingVariance) {
    this(name, origin, channelAxis, epsilon, momentum, momentumConvention, numBatchesTracked, gamma, hasGamma,
        beta, hasBeta, movingMean, movingVariance, Optional.empty());
  }

  public BnLayer {
    Objects.requireNonNull(graph, "graph");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(origin, "origin");
    Objects.requireNonNull(momentum, "momentum");
    Objects.requireNonNull(numBatchesTracked, "numBatchesTracked");
    int c = movingMean.length;
    if (movingVariance.length != c || gamma.length != c || beta.length != c) {
      throw new IllegalArgumentException(
          "layer " + name + ": parameter vectors differ in length");
    }
    if (momentum.isPresent() != (momentumConvention != null)) {
      throw new IllegalArgumentException(
          "layer " + name + ": momentum and its convention come together");
    }
  }

  /** This layer with a momentum learned from elsewhere (e.g. Keras metadata). */
  public BnLayer withMomentum(double value, MomentumConvention convention) {
    return new BnLayer(name, origin, channelAxis, epsilon, OptionalDouble.of(value), convention, numBatchesTracked,
        gamma, hasGamma, beta, hasBeta, movingMean, movingVariance, graph);
  }

  /** This layer with other moving statistics (recalibrated). */
  public BnLayer withStatistics(double[] mean, double[] variance) {
    return new BnLayer(name, origin, channelAxis, epsilon, momentum, momentumConvention, numBatchesTracked,
        gamma, hasGamma, beta, hasBeta, mean, variance, graph);
  }

  public int channels() {
    return movingMean.length;
  }

  /** The channel axis resolved against a tensor of the given rank, or -1 if out of range. */
  public int resolveChannelAxis(int rank) {
    int axis = channelAxis < 0 ? channelAxis + rank : channelAxis;
    return axis >= 0 && axis < rank ? axis : -1;
  }
}
