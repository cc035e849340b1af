package dev.bncheck.load.pytorch;

import dev.bncheck.load.AssumedConventions;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.MomentumConvention;
import dev.bncheck.model.UnresolvedLayer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The BN layers among a checkpoint's tensors, found by their keys: {@code PREFIX.running_mean},
 * {@code .running_var}, and where the layer has them {@code .weight}, {@code .bias} (absent with
 * {@code affine=False}) and {@code .num_batches_tracked}. The layer's name is the prefix, the name
 * {@code named_modules()} gives it, which is how the exporters name it in a dump.
 */
final class TorchBnLayers {

  private static final String MEAN = "running_mean";

  /** A module at the top of the checkpoint has no prefix; this names it in messages and reports. */
  static final String ROOT_NAME = "(top-level module)";

  /** PyTorch's activations are NCHW: channels on axis 1. */
  static final int CHANNEL_AXIS = 1;

  /**
   * @param layers the BN layers in the checkpoint's order
   * @param unrecorded the names of those whose file does not record their epsilon and momentum
   * @param otherClasses those of a whole module whose class is not one of torch.nn's BN classes,
   *     as {@code name (module.Class)}
   * @param withoutRunningStatistics a whole module's BN layers built with {@code
   *     track_running_stats=False}, which have no tensors to be found by
   */
  record Found(List<BnLayer> layers, List<String> unrecorded, List<String> otherClasses,
      List<UnresolvedLayer> withoutRunningStatistics) {}

  private TorchBnLayers() {}

  static boolean isRunningMean(String key) {
    return key.equals(MEAN) || key.endsWith("." + MEAN);
  }

  static Found find(String file, CheckpointWeights weights, AssumedConventions defaults) {
    List<BnLayer> layers = new ArrayList<>();
    List<String> unrecorded = new ArrayList<>();
    List<String> otherClasses = new ArrayList<>();
    Map<String, TensorView> tensors = weights.tensors();
    for (String key : tensors.keySet()) {
      if (!isRunningMean(key)) {
        continue;
      }
      String prefix = key.substring(0, key.length() - MEAN.length());
      String name = prefix.isEmpty() ? ROOT_NAME : prefix.substring(0, prefix.length() - 1);
      ModuleFacts facts = weights.modules().get(prefix.isEmpty() ? "" : name);
      // a BN layer's running mean is a vector; other modules keep running statistics too (an
      // observation normalizer's image-shaped or scalar ones) and are no BN layer
      if ((facts != null && facts.isOtherNorm()) || tensors.get(key).rank() != 1) {
        continue;
      }
      boolean recorded = facts != null && facts.epsilon().isPresent() && facts.momentum().isPresent();
      double epsilon = facts != null && facts.epsilon().isPresent() ? facts.epsilon().getAsDouble()
          : defaults.epsilon(name);
      OptionalDouble momentum = facts != null && facts.momentum().isPresent() ? facts.momentum().get()
          : defaults.momentum(name);
      if (!recorded) {
        unrecorded.add(name);
      }
      boolean otherClass = facts != null && !facts.isTorchBatchNorm();
      if (otherClass) {
        otherClasses.add(name + " (" + facts.type().qualifiedName() + ")");
      }
      String origin = prefix + "*" + (otherClass ? "; class " + facts.type().qualifiedName() + ", not one of torch.nn's"
          + " BatchNorm classes: read as BN by its running statistics" : "");
      layers.add(layer(file, tensors, prefix, name, origin, epsilon, momentum));
    }
    List<UnresolvedLayer> withoutStatistics = new ArrayList<>();
    weights.modules().forEach((name, facts) -> {
      if (facts.isBatchNormWithoutRunningStatistics()) {
        String shown = name.isEmpty() ? ROOT_NAME : name;
        withoutStatistics.add(UnresolvedLayer.withoutRunningStatistics(shown,
            shown + " (" + facts.type().qualifiedName() + ")", UnresolvedLayer.TRACK_RUNNING_STATS_FALSE));
      }
    });
    return new Found(layers, unrecorded, otherClasses, withoutStatistics);
  }

  private static BnLayer layer(String file, Map<String, TensorView> tensors, String prefix, String name,
      String origin, double epsilon, OptionalDouble momentum) {
    double[] mean = vector(file, tensors, prefix + MEAN, -1);
    int channels = mean.length;
    if (channels == 0) {
      throw new InvalidInputException(file, prefix + MEAN, "no channels");
    }
    String varKey = prefix + "running_var";
    if (!tensors.containsKey(varKey)) {
      throw new InvalidInputException(file, prefix + MEAN, "has no " + varKey + " beside it");
    }
    double[] variance = vector(file, tensors, varKey, channels);
    double[] gamma = tensors.containsKey(prefix + "weight") ? vector(file, tensors, prefix + "weight", channels) : null;
    double[] beta = tensors.containsKey(prefix + "bias") ? vector(file, tensors, prefix + "bias", channels) : null;
    String countKey = prefix + "num_batches_tracked";
    OptionalLong tracked = OptionalLong.empty();
    if (tensors.containsKey(countKey)) {
      TensorView count = tensors.get(countKey);
      if (count.dtype().isFloating()) {
        throw new InvalidInputException(file, countKey, "is " + count.dtype().label() + ", expected an integer");
      }
      long n = count.longScalar(countKey);
      if (n < 0) {
        throw new InvalidInputException(file, countKey, "is negative (" + n + ")");
      }
      tracked = OptionalLong.of(n);
    }
    return BnLayer.builder(name, origin).channelAxis(CHANNEL_AXIS).epsilon(epsilon)
        .momentum(momentum, MomentumConvention.PYTORCH).numBatchesTracked(tracked).gamma(gamma).beta(beta)
        .statistics(mean, variance).build();
  }

  /** A floating-point vector, of {@code channels} values unless that is negative. */
  private static double[] vector(String file, Map<String, TensorView> tensors, String key, int channels) {
    TensorView t = tensors.get(key);
    if (!t.dtype().isFloating()) {
      throw new InvalidInputException(file, key, "is " + t.dtype().label() + ", expected a floating-point tensor");
    }
    if (t.rank() != 1 || (channels >= 0 && t.elements() != channels)) {
      throw new InvalidInputException(file, key, "has shape " + t.describeShape() + ", expected a vector"
          + (channels >= 0 ? " of " + channels + " values, as running_mean" : ""));
    }
    return t.values(key);
  }
}
