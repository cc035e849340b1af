package dev.bncheck.load.keras;

import dev.bncheck.load.AssumedConventions;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.model.BnLayer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The BN layers of a weights-only Keras file ({@code model.save_weights}), which holds no config:
 * the layers are found by their variables, and what only the config records (axis, epsilon,
 * momentum) is assumed and said so. The statistics alone answer the first questions (were they
 * ever updated, are they finite, are channels dead).
 *
 * <p>Two layouts: Keras 3's {@code .weights.h5} ({@code layers/<group>/vars/0..n}, groups named
 * after the layer's class, {@code batch_normalization_1}, the layer's own name as the {@code name}
 * attribute of {@code vars}; nested models as {@code layers/<group>/layers/...}), and Keras 2's
 * {@code save_weights} HDF5 file (a {@code layer_names} attribute, each layer's group listing its
 * variables as {@code bn1/moving_mean:0} in {@code weight_names}).
 */
final class WeightsOnlyFile {

  /** The group Keras 3 gives a BatchNormalization layer: its class in snake case, numbered. */
  private static final Pattern BN_GROUP = Pattern.compile("batch_normalization(_\\d+)?");

  private static final String ORIGIN = "; a weights-only file: the layer is found by its variables";

  private final Hdf5File h5;
  /** The addresses of the groups walked. */
  private final Set<Long> visited = new HashSet<>();
  private final AssumedConventions conventions;
  /** Layers read as BN by their variables though their group names another class, as {@code name (group)}. */
  private final List<String> otherClasses = new ArrayList<>();

  private WeightsOnlyFile(Hdf5File h5, LoadOptions options) {
    this.h5 = h5;
    this.conventions = AssumedConventions.keras(options);
  }

  /**
   * Whether the file has the shape of a weights-only file of either layout: Keras 3 writes the
   * model's own {@code vars} group at the root, Keras 2 a {@code layer_names} attribute.
   */
  static boolean looksLikeOne(Hdf5File h5) {
    return h5.isGroup("vars") || h5.isGroup("layers") || h5.stringsAttribute("/", "layer_names").isPresent();
  }

  /**
   * The file's BN layers and how the report states where their epsilon, momentum and axis came
   * from (none of them is recorded).
   */
  record Found(List<BnLayer> layers, String assumption) {}

  static Found layers(Hdf5File h5, LoadOptions options) {
    WeightsOnlyFile reader = new WeightsOnlyFile(h5, options);
    List<BnLayer> out = new ArrayList<>();
    if (h5.stringsAttribute("/", "layer_names").isPresent()) {
      reader.keras2(out);
    } else {
      reader.keras3("", List.of(), out);
    }
    List<String> other = reader.otherClasses;
    return new Found(out, reader.conventions.describe(out.stream().map(BnLayer::name).toList(), out.size())
        + (other.isEmpty() ? "" : "; read as BN by their four variables though their group names another class: "
            + String.join(", ", other)));
  }

  /**
   * Walks every group below {@code container}: a Functional or Sequential model keeps its layers
   * in {@code layers/}, a subclassed model or layer its sublayers under their attribute names
   * ({@code bn}, {@code block/layers/...}). A group with {@code vars} is a BatchNormalization layer
   * when its group is Keras's name for the class ({@code batch_normalization_1}), or, for an
   * attribute's group, when its recorded name is the default one, or when it holds the four
   * variables only a BatchNormalization layer has (gamma, beta, moving mean, moving variance:
   * one-dimensional, as long, the variance not negative).
   */
  private void keras3(String container, List<String> models, List<BnLayer> out) {
    if (models.size() > KerasLimits.MAX_MODEL_NESTING) {
      throw new InvalidInputException(h5.file(), container, "layers nested more than " + KerasLimits.MAX_MODEL_NESTING
          + " deep");
    }
    List<String> children = new ArrayList<>(h5.children(container.isEmpty() ? "/" : container));
    children.sort(Comparator.naturalOrder());
    for (String child : children) {
      String group = container.isEmpty() ? child : container + "/" + child;
      if (child.equals("vars") || (container.isEmpty() && child.equals("optimizer")) || !h5.isGroup(group)) {
        continue;
      }
      // Keras writes a tree; a group reached twice is a hard link, and one back to a parent a cycle
      if (!visited.add(h5.address(group))) {
        throw new InvalidInputException(h5.file(), group, "a group reached a second time (a hard link); Keras writes"
            + " none");
      }
      if (child.equals("layers")) {
        keras3(group, models, out);
        continue;
      }
      String vars = group + "/vars";
      String name = h5.isGroup(vars) ? h5.stringAttribute(vars, "name").orElse(child) : child;
      String qualified = models.isEmpty() ? name : String.join("/", models) + "/" + name;
      // in a layers/ group Keras names each group after the layer's class, so that a LayerNormalization
      // named "batch_normalization" is told apart; elsewhere groups are attribute names
      boolean classGroup = container.equals("layers") || container.endsWith("/layers");
      boolean namedBn = BN_GROUP.matcher(child).matches() || (!classGroup && BN_GROUP.matcher(name).matches());
      if (h5.isGroup(vars) && (namedBn || holdsBnVariables(vars))) {
        boolean otherClass = !namedBn && classGroup;
        if (otherClass) {
          otherClasses.add(qualified + " (" + child + ")");
        }
        out.add(keras3Layer(vars, qualified, otherClass
            ? "; its group names the class " + child + ", not BatchNormalization: read as BN by its four variables" : ""));
      } else {
        List<String> inner = new ArrayList<>(models);
        inner.add(name);
        keras3(group, inner, out);
      }
    }
  }

  private boolean holdsBnVariables(String vars) {
    List<String> held = h5.children(vars);
    if (held.size() != 4 || !held.containsAll(List.of("0", "1", "2", "3"))) {
      return false;
    }
    long length = -1;
    for (String v : held) {
      long[] shape = h5.shape(vars + "/" + v);
      if (shape == null || shape.length != 1 || (length >= 0 && shape[0] != length)) {
        return false;
      }
      length = shape[0];
    }
    double[] variance = h5.vector(vars + "/3", "variable 3 of " + vars);
    return Arrays.stream(variance).allMatch(v -> v >= 0);
  }

  /**
   * Keras creates a BN layer's variables in the order gamma, beta, moving_mean, moving_variance,
   * leaving out gamma without {@code scale} and beta without {@code center}: the last two are
   * always the statistics. With three, the first is gamma or beta, which the file does not say.
   */
  /** @param note what the origin says besides, of how the layer was recognised */
  private BnLayer keras3Layer(String vars, String name, String note) {
    int count = h5.children(vars).size();
    String owner = "BN layer \"" + name + "\"";
    if (count < 2 || count > 4) {
      throw new InvalidInputException(h5.file(), vars, "holds " + count + " variables; a BatchNormalization layer"
          + " has 2 to 4 (gamma, beta, moving_mean, moving_variance)");
    }
    double[] mean = h5.vector(vars + "/" + (count - 2), "moving_mean of " + owner);
    double[] variance = h5.vector(vars + "/" + (count - 1), "moving_variance of " + owner);
    double[] gamma = count == 4 ? h5.vector(vars + "/0", "gamma of " + owner) : new double[0];
    double[] beta = count == 4 ? h5.vector(vars + "/1", "beta of " + owner) : new double[0];
    String origin = vars + ORIGIN + note + (count == 3 ? "; its first variable is gamma or beta, which the file does not"
        + " say, and is left out" : "");
    return layer(name, origin, Map.of("moving_variance", variance, "gamma", gamma, "beta", beta), mean, vars);
  }

  private void keras2(List<BnLayer> out) {
    List<String> layerNames = h5.stringsAttribute("/", "layer_names").orElseThrow();
    for (String layerName : layerNames) {
      if (!h5.isGroup(layerName)) {
        throw new InvalidInputException(h5.file(), layerName, "missing: the layer_names attribute lists it");
      }
      List<String> weights = h5.stringsAttribute(layerName, "weight_names").orElse(List.of());
      // a nested model's group lists its layers' variables, each under its own layer's name
      Map<String, Map<String, String>> byLayer = new LinkedHashMap<>();
      for (String stored : weights) {
        String[] parts = stored.split("/");
        if (parts.length < 2) {
          continue;
        }
        String weight = parts[parts.length - 1].replaceFirst(":\\d+$", "");
        String owner = parts[parts.length - 2];
        if (byLayer.computeIfAbsent(owner, k -> new LinkedHashMap<>()).put(weight, layerName + "/" + stored) != null) {
          throw new InvalidInputException(h5.file(), layerName + " weight " + stored, "a second " + weight
              + " of layer \"" + owner + "\"");
        }
      }
      for (var entry : byLayer.entrySet()) {
        Map<String, String> datasets = entry.getValue();
        if (!datasets.containsKey("moving_mean") || !datasets.containsKey("moving_variance")) {
          continue;
        }
        String name = entry.getKey().equals(layerName) ? layerName : layerName + "/" + entry.getKey();
        String owner = "BN layer \"" + name + "\"";
        double[] mean = h5.vector(datasets.get("moving_mean"), "moving_mean of " + owner);
        Map<String, double[]> others = new LinkedHashMap<>();
        others.put("moving_variance", h5.vector(datasets.get("moving_variance"), "moving_variance of " + owner));
        for (String optional : List.of("gamma", "beta")) {
          others.put(optional, datasets.containsKey(optional) ? h5.vector(datasets.get(optional), optional + " of "
              + owner) : new double[0]);
        }
        out.add(layer(name, layerName + ORIGIN, others, mean, datasets.get("moving_mean")));
      }
    }
  }

  /** {@code others} holds moving_variance, gamma and beta; an empty gamma or beta is one the file does not hold. */
  private BnLayer layer(String name, String origin, Map<String, double[]> others, double[] mean, String where) {
    int c = mean.length;
    for (var vector : others.entrySet()) {
      int n = vector.getValue().length;
      if ((n != 0 && n != c) || (vector.getKey().equals("moving_variance") && n != c)) {
        throw new InvalidInputException(h5.file(), where, vector.getKey() + " has " + n + " values, moving_mean "
            + c + " (BN layer \"" + name + "\")");
      }
    }
    double[] gamma = others.get("gamma");
    double[] beta = others.get("beta");
    return BnLayer.builder(name, origin).channelAxis(conventions.channelAxis(name)).epsilon(conventions.epsilon(name))
        .momentum(conventions.momentum(name), conventions.convention()).gamma(gamma.length == 0 ? null : gamma)
        .beta(beta.length == 0 ? null : beta).statistics(mean, others.get("moving_variance")).build();
  }
}
