package dev.bncheck.load.keras;

import java.util.List;
import java.util.Objects;

/**
 * A BatchNormalization layer as a Keras model config describes it, before its weights are read.
 *
 * @param name the layer's own name
 * @param models the names of the models it sits in, outermost first; empty for a top-level layer
 * @param where the layer in config.json, for messages (e.g. {@code layers[2].layers[3]})
 * @param channelAxis the config's {@code axis}
 * @param trainable false when the layer, or a model it sits in, is frozen
 * @param archiveGroups the groups Keras 3 names this layer and its models by in a .keras archive's
 *     weights (its class name in snake case, numbered among siblings of the same class), outermost
 *     first; used where the archive does not record the layers' own names
 */
record BnSpec(
    String name,
    List<String> models,
    String where,
    int channelAxis,
    double epsilon,
    double momentum,
    boolean center,
    boolean scale,
    boolean trainable,
    List<String> archiveGroups) {

  BnSpec {
    Objects.requireNonNull(name, "name");
    models = List.copyOf(models);
    archiveGroups = List.copyOf(archiveGroups);
    if (archiveGroups.size() != models.size() + 1) {
      throw new IllegalArgumentException("one archive group per model and one for the layer");
    }
  }

  /**
   * The name bncheck reports, the models it sits in first ({@code base/bn}), as the project's
   * Keras exporter names nested layers, so that a dump's activations match by name.
   */
  String qualifiedName() {
    return models.isEmpty() ? name : String.join("/", models) + "/" + name;
  }

  /** The names of the weights this layer holds, in the order Keras creates them. */
  List<String> weightNames() {
    List<String> names = new java.util.ArrayList<>();
    if (scale) {
      names.add("gamma");
    }
    if (center) {
      names.add("beta");
    }
    names.add("moving_mean");
    names.add("moving_variance");
    return names;
  }
}
