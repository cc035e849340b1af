package dev.bncheck.load.pytorch;

import dev.bncheck.load.InvalidInputException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the weights in what a torch.save pickle holds: a state_dict; a training checkpoint, a
 * dict holding one ({@code {"model": ..., "optimizer": ..., "epoch": ...}}); or a whole module.
 */
final class StateDictLocator {

  /** Keys training scripts save their model under, most specific first; the first present wins. */
  static final List<String> PREFERRED_KEYS = List.of("state_dict", "model_state_dict", "model_state", "model",
      "net", "network", "module", "weights", "params");

  /** How deep below the top-level dict a state_dict is looked for. */
  private static final int MAX_DEPTH = 3;

  private StateDictLocator() {}

  static CheckpointWeights locate(String file, Object root) {
    if (root instanceof PyObject o) {
      if (PickledModules.isModule(o)) {
        return PickledModules.read(file, o, "a whole pickled module");
      }
      throw new InvalidInputException(file, "", "holds a pickled " + o.type().qualifiedName() + " instance, not a"
          + " state_dict or a torch.nn.Module; save model.state_dict() with torch.save");
    }
    if (!(root instanceof Map<?, ?> dict)) {
      throw new InvalidInputException(file, "", "holds a " + RestrictedUnpickler.describe(root) + ", not a state_dict"
          + " (a dict of tensors) or a dict holding one");
    }
    if (hasBnStatistics(dict)) {
      return new CheckpointWeights(tensors(dict), "the top-level state_dict", Map.of(), null);
    }
    Map<String, Object> candidates = entries(dict, true);
    if (candidates.isEmpty() && !tensors(dict).isEmpty()) {
      // a state_dict of a model without BN layers: the report says there are none
      return new CheckpointWeights(tensors(dict), "the top-level state_dict", Map.of(), null);
    }
    if (candidates.isEmpty()) {
      candidates = entries(dict, false);
    }
    if (candidates.isEmpty()) {
      throw new InvalidInputException(file, "", "holds a dict with neither tensors nor an entry holding a state_dict"
          + " or a module (keys: " + keys(dict) + ")");
    }
    String key = candidates.keySet().iterator().next();
    int best = Integer.MAX_VALUE;
    for (String path : candidates.keySet()) {
      int rank = PREFERRED_KEYS.indexOf(path.split("\\.", -1)[0]);
      if (rank >= 0 && rank < best) {
        best = rank;
        key = path;
      }
    }
    List<String> others = new ArrayList<>(candidates.keySet());
    others.remove(key);
    String where = (PickledModules.isModule(candidates.get(key)) ? "the whole module" : "the state_dict")
        + " under key \"" + key + "\"" + (others.isEmpty() ? "" : " (also found: \"" + String.join("\", \"", others)
            + "\")");
    Object chosen = candidates.get(key);
    return chosen instanceof PyObject module ? PickledModules.read(file, module, where)
        : new CheckpointWeights(tensors((Map<?, ?>) chosen), where, Map.of(), null);
  }

  /**
   * The entries that hold a module or a state_dict: with BN layers' running statistics, or, when
   * {@code withBn} is false, with any tensors (a model without BN layers).
   */
  private static Map<String, Object> entries(Map<?, ?> dict, boolean withBn) {
    Map<String, Object> found = new LinkedHashMap<>();
    entries(dict, withBn, "", 0, new IdentityHashMap<>(), found);
    return found;
  }

  /**
   * Looks into dicts nested up to {@link #MAX_DEPTH} deep ({@code {"model": {"backbone": sd}}}),
   * naming what it finds by the dotted path of keys.
   *
   * @param seen the dicts already looked into: one dict under many keys, or a dict that holds
   *     itself, is looked into once
   */
  private static void entries(Map<?, ?> dict, boolean withBn, String path, int depth, Map<Object, Boolean> seen,
      Map<String, Object> found) {
    for (Map.Entry<?, ?> e : dict.entrySet()) {
      if (!(e.getKey() instanceof String key)) {
        continue;
      }
      Object value = e.getValue();
      String at = path + key;
      if (PickledModules.isModule(value)) {
        found.put(at, value);
      } else if (value instanceof Map<?, ?> m && seen.put(m, Boolean.TRUE) == null) {
        if (withBn ? hasBnStatistics(m) : !tensors(m).isEmpty()) {
          found.put(at, m);
        } else if (depth < MAX_DEPTH) {
          entries(m, withBn, at + ".", depth + 1, seen, found);
        }
      }
    }
  }

  /** Whether a dict holds a tensor under a key that names running statistics. */
  private static boolean hasBnStatistics(Map<?, ?> dict) {
    for (Map.Entry<?, ?> e : dict.entrySet()) {
      if (e.getKey() instanceof String k && TorchBnLayers.isRunningMean(k) && e.getValue() instanceof TensorView) {
        return true;
      }
    }
    return false;
  }

  private static Map<String, TensorView> tensors(Map<?, ?> dict) {
    Map<String, TensorView> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : dict.entrySet()) {
      if (e.getKey() instanceof String k && e.getValue() instanceof TensorView t) {
        out.put(k, t);
      }
    }
    return out;
  }

  private static String keys(Map<?, ?> dict) {
    List<String> names = new ArrayList<>();
    for (Object k : dict.keySet()) {
      if (names.size() == 10) {
        names.add("...");
        break;
      }
      names.add(String.valueOf(k instanceof String ? k : RestrictedUnpickler.describe(k)));
    }
    return String.join(", ", names);
  }
}
