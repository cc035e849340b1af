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
    return toBuilder().momentum(OptionalDouble.of(value), convention).build();
  }

  /** This layer with other moving statistics (recalibrated). */
  public BnLayer withStatistics(double[] mean, double[] variance) {
    return toBuilder().statistics(mean, variance).build();
  }

  /** A layer called {@code name}, found at {@code origin}; the channel axis, epsilon and statistics must be given. */
  public static Builder builder(String name, String origin) {
    return new Builder(name, origin);
  }

  /** A builder holding this layer's values. */
  public Builder toBuilder() {
    return builder(name, origin).channelAxis(channelAxis).epsilon(epsilon).momentum(momentum, momentumConvention)
        .numBatchesTracked(numBatchesTracked).gamma(hasGamma ? gamma : null).beta(hasBeta ? beta : null)
        .statistics(movingMean, movingVariance).graph(graph);
  }

  /**
   * Builds a layer by naming its values, which loaders read from files in many orders; a scale
   * or offset not given is one the layer does not learn.
   */
  public static final class Builder {
    private final String name;
    private final String origin;
    private Integer channelAxis;
    private Double epsilon;
    private OptionalDouble momentum = OptionalDouble.empty();
    private MomentumConvention momentumConvention;
    private OptionalLong numBatchesTracked = OptionalLong.empty();
    private double[] gamma;
    private double[] beta;
    private double[] movingMean;
    private double[] movingVariance;
    private Optional<GraphFacts> graph = Optional.empty();

    private Builder(String name, String origin) {
      this.name = name;
      this.origin = origin;
    }

    public Builder channelAxis(int axis) {
      channelAxis = axis;
      return this;
    }

    public Builder epsilon(double value) {
      epsilon = value;
      return this;
    }

    /** The momentum in {@code convention}; an empty one is unknown, and its convention is ignored. */
    public Builder momentum(OptionalDouble value, MomentumConvention convention) {
      momentum = value;
      momentumConvention = value.isPresent() ? Objects.requireNonNull(convention, "convention") : null;
      return this;
    }

    public Builder numBatchesTracked(OptionalLong count) {
      numBatchesTracked = count;
      return this;
    }

    /** The learned scale, or null when the layer learns none (it then scales by 1). */
    public Builder gamma(double[] learned) {
      gamma = learned;
      return this;
    }

    /** The learned offset, or null when the layer learns none (it then adds 0). */
    public Builder beta(double[] learned) {
      beta = learned;
      return this;
    }

    public Builder statistics(double[] mean, double[] variance) {
      movingMean = mean;
      movingVariance = variance;
      return this;
    }

    public Builder graph(Optional<GraphFacts> facts) {
      graph = facts;
      return this;
    }

    public BnLayer build() {
      Objects.requireNonNull(channelAxis, "channelAxis");
      Objects.requireNonNull(epsilon, "epsilon");
      Objects.requireNonNull(movingMean, "movingMean");
      int channels = movingMean.length;
      double[] ones = new double[channels];
      java.util.Arrays.fill(ones, 1.0);
      return new BnLayer(name, origin, channelAxis, epsilon, momentum, momentumConvention, numBatchesTracked,
          gamma == null ? ones : gamma, gamma != null, beta == null ? new double[channels] : beta, beta != null,
          movingMean, movingVariance, graph);
    }
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
