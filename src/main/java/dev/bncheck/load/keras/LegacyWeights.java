package dev.bncheck.load.keras;

import dev.bncheck.load.InvalidInputException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds a BN layer's weights in a legacy Keras HDF5 file ({@code model.save("model.h5")}, Keras 2
 * and Keras 3 alike): each top-level layer has a group {@code model_weights/<layer>} whose
 * {@code weight_names} attribute lists its variables' paths within it, such as
 * {@code bn1/gamma:0} (Keras 2), {@code bn1/gamma} or {@code model/bn1/gamma} (Keras 3). A nested
 * model's group lists the variables of all its layers, each under its own layer's name.
 */
final class LegacyWeights implements WeightLayout {

  static final String ROOT = "model_weights";

  private final Hdf5File h5;

  LegacyWeights(Hdf5File h5) {
    this.h5 = h5;
  }

  @Override
  public Located locate(BnSpec spec) {
    String group = ROOT + "/" + (spec.models().isEmpty() ? spec.name() : spec.models().get(0));
    if (!h5.isGroup(group)) {
      throw new InvalidInputException(h5.file(), group, "missing: no weights for BN layer \"" + spec.qualifiedName()
          + "\" of the model config: the config does not match the weights");
    }
    List<String> names = h5.stringsAttribute(group, "weight_names").orElseThrow(() ->
        new InvalidInputException(h5.file(), group, "has no weight_names attribute"));
    List<String> expected = spec.weightNames();
    Map<String, String> datasets = new HashMap<>();
    for (String stored : names) {
      String[] parts = stored.split("/");
      if (parts.length < 2 || !parts[parts.length - 2].equals(spec.name())) {
        continue;
      }
      String weight = parts[parts.length - 1].replaceFirst(":\\d+$", "");
      if (!List.of("gamma", "beta", "moving_mean", "moving_variance").contains(weight)) {
        continue;
      }
      if (!expected.contains(weight)) {
        throw new InvalidInputException(h5.file(), group + " weight " + stored, "a " + weight + " the config of BN"
            + " layer \"" + spec.qualifiedName() + "\" (center " + spec.center() + ", scale " + spec.scale()
            + ") does not have: the config does not match the weights");
      }
      if (datasets.put(weight, group + "/" + stored) != null) {
        throw new InvalidInputException(h5.file(), group + " weight " + stored, "a second " + weight
            + " for BN layer \"" + spec.qualifiedName() + "\"");
      }
    }
    for (String weight : expected) {
      if (!datasets.containsKey(weight)) {
        throw new InvalidInputException(h5.file(), group + " attribute weight_names", "lists no " + weight
            + " for BN layer \"" + spec.qualifiedName() + "\": the config does not match the weights");
      }
    }
    return new Located(group, datasets);
  }
}
