package dev.bncheck.model;

import java.util.List;

/**
 * The neutral description of a model's batch-normalization layers, in network order.
 *
 * @param location the model file or directory as the user named it
 * @param format what kind of input it was, e.g. {@code bncheck-dump v1}
 * @param framework the framework that produced the model, or null when unknown
 * @param modelName the model's own name, or null when unknown
 * @param unresolved BN layers found whose parameters could not be read, in network order
 */
public record BnModel(
    String location,
    String format,
    String framework,
    String modelName,
    List<BnLayer> layers,
    List<UnresolvedLayer> unresolved) {

  public BnModel(String location, String format, String framework, String modelName, List<BnLayer> layers) {
    this(location, format, framework, modelName, layers, List.of());
  }

  public BnModel {
    layers = List.copyOf(layers);
    unresolved = List.copyOf(unresolved);
  }
}
