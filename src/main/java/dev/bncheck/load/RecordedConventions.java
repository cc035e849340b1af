package dev.bncheck.load;

import dev.bncheck.model.MomentumConvention;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * What calibration data recorded of its layers' conventions, for loaders of files that do not
 * record them: a PyTorch state_dict or a Keras weights-only file holds tensors only, while the
 * exporters write the epsilon, momentum and channel axis the running model used. A loader takes
 * these where it would otherwise assume a framework's default, and says so.
 *
 * @param source the file they were read from, for the report
 * @param layers by layer name
 */
public record RecordedConventions(String source, Map<String, Layer> layers) {

  public static final RecordedConventions NONE = new RecordedConventions("", Map.of());

  /**
   * One layer's recorded conventions.
   *
   * @param epsilon empty when the data did not record it; then nothing of the momentum is known
   *     either
   * @param momentum empty with a recorded epsilon: the layer keeps a cumulative average
   *     (PyTorch's {@code momentum=None}), which has no momentum
   * @param convention the convention of {@code momentum}; null when it is empty
   * @param channelAxis the axis of the channels in the recorded activations
   */
  public record Layer(OptionalDouble epsilon, OptionalDouble momentum, MomentumConvention convention,
      OptionalInt channelAxis) {

    public Layer {
      Objects.requireNonNull(epsilon, "epsilon");
      Objects.requireNonNull(momentum, "momentum");
      Objects.requireNonNull(channelAxis, "channelAxis");
      if (momentum.isPresent() != (convention != null) || (momentum.isPresent() && epsilon.isEmpty())) {
        throw new IllegalArgumentException("a momentum comes with its convention and an epsilon");
      }
    }

    /** The momentum as a framework of the given convention states it. */
    public OptionalDouble momentumIn(MomentumConvention target) {
      if (momentum.isEmpty() || convention == target) {
        return momentum;
      }
      double decay = convention.decay(momentum.getAsDouble());
      return OptionalDouble.of(target == MomentumConvention.KERAS ? decay : 1.0 - decay);
    }
  }

  public RecordedConventions {
    Objects.requireNonNull(source, "source");
    layers = Map.copyOf(layers);
  }

  /** The recorded epsilon and momentum of the named layer, when the data recorded its epsilon. */
  public Optional<Layer> bnConventions(String layer) {
    return Optional.ofNullable(layers.get(layer)).filter(l -> l.epsilon().isPresent());
  }

  /** The recorded channel axis of the named layer. */
  public OptionalInt channelAxis(String layer) {
    Layer l = layers.get(layer);
    return l == null ? OptionalInt.empty() : l.channelAxis();
  }
}
