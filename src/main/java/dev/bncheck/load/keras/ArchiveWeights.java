package dev.bncheck.load.keras;

import dev.bncheck.load.InvalidInputException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds a BN layer's weights in a Keras 3 weights file (model.weights.h5 in a .keras archive):
 * {@code layers/<group>/vars/0..n}, nested models as {@code layers/<model group>/layers/...}. The
 * groups are named after the layers' classes, not the layers; Keras 3 records each layer's own
 * name as the {@code name} attribute of its {@code vars} group, which is matched first, and the
 * class-based group names computed from the config serve when no attribute is there; where both
 * exist they must agree.
 */
final class ArchiveWeights implements WeightLayout {

  private final Hdf5File h5;
  /** Per container group, its members by the layer name their vars record; computed once. */
  private final Map<String, Map<String, String>> byName = new HashMap<>();

  ArchiveWeights(Hdf5File h5) {
    this.h5 = h5;
  }

  @Override
  public Located locate(BnSpec spec) {
    String container = "layers";
    for (int level = 0; level <= spec.models().size(); level++) {
      String name = level < spec.models().size() ? spec.models().get(level) : spec.name();
      String group = member(container, name, spec.archiveGroups().get(level), spec);
      container = level < spec.models().size() ? group + "/layers" : group;
    }
    String vars = container + "/vars";
    List<String> expected = spec.weightNames();
    List<String> held = h5.isGroup(vars) ? h5.children(vars) : List.of();
    if (held.size() != expected.size()) {
      throw new InvalidInputException(h5file(), vars, "holds " + held.size() + " weights; the config of BN layer \""
          + spec.qualifiedName() + "\" (center " + spec.center() + ", scale " + spec.scale() + ") gives "
          + expected.size() + " (" + String.join(", ", expected) + "): the config does not match the weights");
    }
    Map<String, String> paths = new java.util.LinkedHashMap<>();
    for (int i = 0; i < expected.size(); i++) {
      // Keras numbers a layer's variables in the order it creates them: gamma, beta, moving_mean, moving_variance
      paths.put(expected.get(i), vars + "/" + i);
    }
    return new Located(KerasArchive.WEIGHTS + ": " + vars, paths);
  }

  private String member(String container, String layerName, String classGroup, BnSpec spec) {
    String named = byName.computeIfAbsent(container, this::membersByName).get(layerName);
    String group = container + "/" + classGroup;
    // Keras loads by the group path and only records the name: a file where the two disagree
    // would give a layer another's statistics, so it is refused rather than read either way
    if (named != null && !named.equals(group) && h5.isGroup(group + "/vars")) {
      throw new InvalidInputException(h5file(), named + "/vars", "its name attribute says layer \"" + layerName
          + "\", but Keras loads " + group + " into that layer: the weights' names disagree with their places");
    }
    if (named != null) {
      return named;
    }
    // the group Keras's naming rule gives, unless it records another layer's name
    if (!h5.isGroup(group + "/vars") || h5.stringAttribute(group + "/vars", "name").isPresent()) {
      throw missing(container, layerName, spec);
    }
    return group;
  }

  private Map<String, String> membersByName(String container) {
    Map<String, String> members = new HashMap<>();
    if (!h5.isGroup(container)) {
      return members;
    }
    for (String child : h5.children(container)) {
      String path = container + "/" + child;
      if (h5.isGroup(path + "/vars")) {
        Optional<String> name = h5.stringAttribute(path + "/vars", "name");
        name.ifPresent(n -> members.putIfAbsent(n, path));
      }
    }
    return members;
  }

  private InvalidInputException missing(String container, String layerName, BnSpec spec) {
    return new InvalidInputException(h5file(), container, "no weights for layer \"" + layerName + "\" (of BN layer \""
        + spec.qualifiedName() + "\" in config.json): the config does not match the weights");
  }

  private String h5file() {
    return h5.file() + ": " + KerasArchive.WEIGHTS;
  }
}
