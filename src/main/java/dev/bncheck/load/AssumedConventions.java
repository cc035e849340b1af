package dev.bncheck.load;

import dev.bncheck.model.MomentumConvention;
import dev.bncheck.model.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * The epsilon, momentum and channel axis given to BN layers whose file does not record them: a
 * PyTorch state_dict or a Keras weights-only file holds tensors only, while these are constructor
 * or config arguments. The user's values ({@code --epsilon}, {@code --momentum}) come first, then
 * what the calibration dump recorded of the layer (the exporters write the running model's
 * values), then the framework's defaults; the report says which.
 */
public final class AssumedConventions {

  private final String framework;
  private final double defaultEpsilon;
  private final double defaultMomentum;
  private final MomentumConvention convention;
  private final OptionalInt defaultAxis;
  private final OptionalDouble userEpsilon;
  private final OptionalDouble userMomentum;
  private final RecordedConventions recorded;

  private AssumedConventions(String framework, double defaultEpsilon, double defaultMomentum,
      MomentumConvention convention, OptionalInt defaultAxis, LoadOptions options) {
    this.framework = framework;
    this.defaultEpsilon = defaultEpsilon;
    this.defaultMomentum = defaultMomentum;
    this.convention = convention;
    this.defaultAxis = defaultAxis;
    this.userEpsilon = options.assumedEpsilon();
    this.userMomentum = options.assumedMomentum();
    this.recorded = options.recordedConventions();
  }

  /** {@code torch.nn.BatchNorm2d}'s defaults; PyTorch's activations always hold channels on axis 1. */
  public static AssumedConventions pytorch(LoadOptions options) {
    return new AssumedConventions("PyTorch", 1e-5, 0.1, MomentumConvention.PYTORCH, OptionalInt.empty(), options);
  }

  /** Keras's {@code BatchNormalization} defaults, channels on the last axis. */
  public static AssumedConventions keras(LoadOptions options) {
    return new AssumedConventions("Keras", 1e-3, 0.99, MomentumConvention.KERAS, OptionalInt.of(-1), options);
  }

  public MomentumConvention convention() {
    return convention;
  }

  public double epsilon(String layer) {
    return userEpsilon.orElseGet(() -> recorded.bnConventions(layer)
        .map(l -> l.epsilon().getAsDouble()).orElse(defaultEpsilon));
  }

  /** In the framework's convention; empty when the dump records a cumulative average ({@code momentum=None}). */
  public OptionalDouble momentum(String layer) {
    if (userMomentum.isPresent()) {
      return userMomentum;
    }
    return recorded.bnConventions(layer).map(l -> l.momentumIn(convention))
        .orElse(OptionalDouble.of(defaultMomentum));
  }

  /** The recorded channel axis, or the framework's usual one. */
  public int channelAxis(String layer) {
    return recorded.channelAxis(layer).orElse(defaultAxis.orElseThrow());
  }

  /**
   * How the report states where the values of the layers that lack recorded ones came from.
   *
   * @param layers the names of those layers
   * @param of how many BN layers the model has
   */
  public String describe(List<String> layers, int of) {
    long fromData = layers.stream().filter(this::fromData).count();
    long assumed = layers.size() - fromData;
    String what = defaultAxis.isPresent() ? "epsilon, momentum and channel axis" : "epsilon and momentum";
    List<String> parts = new ArrayList<>();
    if (fromData > 0) {
      parts.add(what + (fromData == of ? "" : " of " + fromData + " of " + of + " BN layers") + " read from the"
          + " calibration dump " + recorded.source() + userValues());
    }
    if (assumed > 0) {
      parts.add("epsilon " + Numbers.brief(userEpsilon.orElse(defaultEpsilon)) + " (" + source(userEpsilon, "--epsilon")
          + ")" + (defaultAxis.isPresent() ? ", " : " and ") + "momentum "
          + Numbers.brief(userMomentum.orElse(defaultMomentum)) + " ("
          + source(userMomentum, "--momentum") + ")" + (defaultAxis.isPresent() ? " and the last axis as channels" : "")
          + " assumed" + (assumed == of ? "" : " for " + assumed + " of " + of + " BN layers"));
    }
    return String.join("; ", parts) + ": the file does not record them";
  }

  private boolean fromData(String layer) {
    return recorded.bnConventions(layer).isPresent() && (userEpsilon.isEmpty() || userMomentum.isEmpty());
  }

  private String userValues() {
    List<String> given = new ArrayList<>();
    userEpsilon.ifPresent(e -> given.add("epsilon " + Numbers.brief(e) + " from --epsilon"));
    userMomentum.ifPresent(m -> given.add("momentum " + Numbers.brief(m) + " from --momentum"));
    return given.isEmpty() ? "" : ", but " + String.join(" and ", given);
  }

  private String source(OptionalDouble user, String option) {
    return user.isPresent() ? option : framework + "'s default";
  }
}
