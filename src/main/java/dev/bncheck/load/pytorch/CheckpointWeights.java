package dev.bncheck.load.pytorch;

import java.util.Map;

/**
 * The tensors of a checkpoint by their state_dict keys ({@code layer1.0.bn1.running_mean}), in
 * the checkpoint's order, with where in the file they were found.
 *
 * @param where how the tensors were found, for the report: {@code the top-level state_dict},
 *     {@code state_dict under key "model"}
 * @param modules what a whole pickled module records per submodule name; empty for a state_dict
 * @param modelClass the class of a whole pickled model, or null
 */
record CheckpointWeights(Map<String, TensorView> tensors, String where, Map<String, ModuleFacts> modules,
    String modelClass) {

  CheckpointWeights {
    tensors = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tensors));
    modules = Map.copyOf(modules);
  }
}
