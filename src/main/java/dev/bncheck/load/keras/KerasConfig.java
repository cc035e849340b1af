package dev.bncheck.load.keras;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.JacksonMessages;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The BatchNormalization layers a Keras model config describes (config.json of a .keras archive,
 * the model_config attribute of a legacy .h5 file), in network order, models used as layers
 * walked into. Layers of every other class are skipped: bncheck needs no layer but BN.
 *
 * @param modelName the model's name, or null when the config gives none
 * @param layers the BN layers, in the order of the config's layer lists
 */
record KerasConfig(String modelName, List<BnSpec> layers, String subclassedModel) {

  /** Keras 3's class, Keras 2's (and its V1/V2 aliases), and the synchronized variant of both. */
  private static final Set<String> BN_CLASSES = Set.of("BatchNormalization", "BatchNormalizationV1",
      "BatchNormalizationV2", "SyncBatchNormalization");

  /** Each model level is a handful of JSON levels; layer configs themselves are shallow. */
  private static final int MAX_JSON_NESTING = 16 + 8 * KerasLimits.MAX_MODEL_NESTING;

  private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_JSON_NESTING).build())
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .build())
      .build();

  /**
   * @param subclassedModel the class of a subclassed model, whose config lists no layers; null for
   *     a Functional or Sequential model
   */
  KerasConfig {
    layers = List.copyOf(layers);
  }

  boolean listsLayers() {
    return subclassedModel == null;
  }

  /**
   * @param file the model file, for messages
   * @param source where the config is in the file, for messages ({@code config.json})
   * @throws InvalidInputException when the config is not JSON, not a model config, or a BN layer's
   *     config lacks a field bncheck needs
   */
  static KerasConfig parse(String file, String source, byte[] json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new InvalidInputException(file, source, "not valid JSON: " + JacksonMessages.plain(e.getMessage()));
    }
    if (root == null || !root.isObject() || !root.path("class_name").isTextual()) {
      throw new InvalidInputException(file, source, "not a Keras model config (an object with \"class_name\")");
    }
    JsonNode config = root.path("config");
    String name = config.path("name").isTextual() ? config.path("name").asText() : null;
    if (!isModel(root)) {
      // a subclassed model's config names its class and lists no layers: they live in its code
      return new KerasConfig(name, List.of(), root.path("class_name").asText());
    }
    List<BnSpec> found = new ArrayList<>();
    new Walk(file, source, found).model(root, "", List.of(), List.of(), true, 0);
    Set<String> seen = new HashSet<>();
    for (BnSpec spec : found) {
      if (!seen.add(spec.qualifiedName())) {
        throw new InvalidInputException(file, source + ": " + spec.where(),
            "a second BN layer named \"" + spec.qualifiedName() + "\"; Keras gives layers unique names");
      }
    }
    return new KerasConfig(name, found, null);
  }

  /** The config's {@code layers} list of a model, for Keras 2 Sequential models the config itself. */
  static JsonNode layerList(JsonNode model) {
    JsonNode config = model.path("config");
    return config.isArray() ? config : config.path("layers");
  }

  /** Whether a layer's config describes a model (Functional, Sequential) whose layers it lists. */
  static boolean isModel(JsonNode layer) {
    return layerList(layer).isArray();
  }

  static boolean isBatchNormalization(JsonNode layer) {
    return BN_CLASSES.contains(layer.path("class_name").asText(""));
  }

  /** A layer's name: in its config, or (Keras 2 functional models) beside it. */
  static String layerName(JsonNode layer) {
    JsonNode name = layer.path("config").path("name");
    if (!name.isTextual()) {
      name = layer.path("name");
    }
    return name.isTextual() ? name.asText() : null;
  }

  /** Keras's naming.to_snake_case: {@code BatchNormalization} → {@code batch_normalization}, {@code Conv2D} → {@code conv2d}. */
  static String snakeCase(String className) {
    return className.replaceAll("\\W+", "").replaceAll("(.)([A-Z][a-z]+)", "$1_$2")
        .replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
  }

  private record Walk(String file, String source, List<BnSpec> found) {

    void model(JsonNode model, String where, List<String> models, List<String> groups, boolean trainable,
        int depth) {
      if (depth > KerasLimits.MAX_MODEL_NESTING) {
        throw error(where, "models nested more than " + KerasLimits.MAX_MODEL_NESTING + " deep");
      }
      JsonNode layers = layerList(model);
      if (!layers.isArray()) {
        throw error(where, "a model without a \"layers\" list");
      }
      boolean sequential = model.path("class_name").asText("").equals("Sequential");
      Map<String, Integer> classCounts = new HashMap<>();
      for (int i = 0; i < layers.size(); i++) {
        JsonNode layer = layers.get(i);
        String at = (where.isEmpty() ? "" : where + ".") + "layers[" + i + "]";
        if (!layer.isObject()) {
          throw error(at, "not a layer config (an object)");
        }
        String className = layer.path("class_name").asText("");
        // A Sequential model's layers leave out its InputLayer; a functional model's keep theirs.
        if (sequential && className.equals("InputLayer")) {
          continue;
        }
        String group = snakeCase(className);
        int seen = classCounts.merge(group, 1, Integer::sum) - 1;
        List<String> layerGroups = new ArrayList<>(groups);
        layerGroups.add(seen == 0 ? group : group + "_" + seen);
        boolean isBn = isBatchNormalization(layer);
        boolean isModel = isModel(layer);
        if (!isBn && !isModel) {
          continue;
        }
        String name = layerName(layer);
        if (name == null || name.isEmpty()) {
          throw error(at, (isBn ? "a BatchNormalization layer" : "a model") + " without a name");
        }
        JsonNode config = layer.path("config");
        boolean layerTrainable = trainable && config.path("trainable").asBoolean(true);
        if (isBn) {
          found.add(batchNormalization(config, at + " (" + name + ")", name, models, layerTrainable, layerGroups));
        } else {
          List<String> inner = new ArrayList<>(models);
          inner.add(name);
          model(layer, at, inner, layerGroups, layerTrainable, depth + 1);
        }
      }
    }

    private BnSpec batchNormalization(JsonNode config, String at, String name, List<String> models,
        boolean trainable, List<String> groups) {
      return new BnSpec(name, models, at, axis(config.path("axis"), at), number(config, "epsilon", at),
          number(config, "momentum", at), flag(config, "center", at), flag(config, "scale", at), trainable,
          groups);
    }

    private int axis(JsonNode axis, String at) {
      JsonNode value = axis.isArray() && axis.size() == 1 ? axis.get(0) : axis;
      if (axis.isArray() && axis.size() != 1) {
        throw error(at + ".axis", "normalizes over " + axis.size() + " axes " + axis
            + "; bncheck checks layers with one channel axis");
      }
      if (!value.isIntegralNumber() || !value.canConvertToInt()) {
        throw error(at + ".axis", axis.isMissingNode() ? "missing" : "not an integer axis: " + axis);
      }
      // BN layers take tensors of rank 2 to 5 (a dump's axis is bounded alike)
      if (value.intValue() < -8 || value.intValue() > 7) {
        throw error(at + ".axis", value.intValue() + " is no axis of a tensor of rank 8 or less");
      }
      return value.intValue();
    }

    private double number(JsonNode config, String field, String at) {
      JsonNode value = config.path(field);
      if (!value.isNumber() || !Double.isFinite(value.doubleValue())) {
        throw error(at + "." + field, value.isMissingNode() ? "missing" : "not a finite number: " + value);
      }
      return value.doubleValue();
    }

    private boolean flag(JsonNode config, String field, String at) {
      JsonNode value = config.path(field);
      if (value.isMissingNode()) {
        return true;
      }
      if (!value.isBoolean()) {
        throw error(at + "." + field, "not true or false: " + value);
      }
      return value.booleanValue();
    }

    private InvalidInputException error(String at, String problem) {
      return new InvalidInputException(file, source + (at.isEmpty() ? "" : ": " + at), problem);
    }
  }
}
