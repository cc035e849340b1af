package dev.bncheck.load.pytorch;

import dev.bncheck.load.InvalidInputException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The tensors of a whole pickled {@code nn.Module} ({@code torch.save(model)}), read from the
 * attributes every module keeps, {@code _parameters}, {@code _buffers} and {@code _modules}, the
 * way {@code state_dict()} walks them. The module classes are the user's code, which a pickle
 * only names; they are never looked up, so a module whose state lies elsewhere is refused.
 */
final class PickledModules {

  private final String file;
  private long work;
  private final Map<String, TensorView> tensors = new LinkedHashMap<>();
  private final Map<String, ModuleFacts> modules = new LinkedHashMap<>();

  private PickledModules(String file) {
    this.file = file;
  }

  /** Whether {@code value} is a pickled module: an instance with the three attributes every module has. */
  static boolean isModule(Object value) {
    if (!(value instanceof PyObject o) || o.attributes().isEmpty()) {
      return false;
    }
    Map<?, ?> a = o.attributes().get();
    return a.get("_parameters") instanceof Map<?, ?> && a.get("_buffers") instanceof Map<?, ?>
        && a.get("_modules") instanceof Map<?, ?>;
  }

  /**
   * @param where how the module was found, for the report
   * @throws InvalidInputException naming the class of a submodule whose state is not a module's
   */
  static CheckpointWeights read(String file, PyObject model, String where) {
    PickledModules walk = new PickledModules(file);
    walk.visit(model, "", 0);
    return new CheckpointWeights(walk.tensors, where, walk.modules, model.type().qualifiedName());
  }

  private void visit(Object value, String prefix, int depth) {
    if (depth > TorchLimits.MAX_NESTING) {
      throw new InvalidInputException(file, prefix, "modules nested more than " + TorchLimits.MAX_NESTING + " deep");
    }
    if (!isModule(value)) {
      throw new InvalidInputException(file, prefix.isEmpty() ? "the pickled object" : "submodule " + dropDot(prefix),
          "a " + RestrictedUnpickler.describe(value) + " without the _parameters, _buffers and _modules of a"
              + " torch.nn.Module; bncheck cannot read its tensors without running its class's code: save"
              + " model.state_dict() with torch.save instead");
    }
    PyObject module = (PyObject) value;
    Map<?, ?> attributes = module.attributes().orElseThrow();
    count(1 + ((Map<?, ?>) attributes.get("_parameters")).size() + ((Map<?, ?>) attributes.get("_buffers")).size()
        + ((Map<?, ?>) attributes.get("_modules")).size());
    modules.put(dropDot(prefix), facts(module.type(), attributes));
    addTensors(prefix, (Map<?, ?>) attributes.get("_parameters"), List.of());
    List<?> nonPersistent = attributes.get("_non_persistent_buffers_set") instanceof List<?> l ? l : List.of();
    addTensors(prefix, (Map<?, ?>) attributes.get("_buffers"), nonPersistent);
    for (Map.Entry<?, ?> child : ((Map<?, ?>) attributes.get("_modules")).entrySet()) {
      if (child.getValue() != PyNone.NONE) {
        visit(child.getValue(), prefix + child.getKey() + ".", depth + 1);
      }
    }
  }

  /**
   * Counts the entries walked: a pickle may share one submodule many times at every level, which
   * a walk by name (as {@code state_dict()} does) visits exponentially often.
   */
  private void count(long entries) {
    work += entries;
    if (work > TorchLimits.MAX_ENTRIES) {
      throw new InvalidInputException(file, "", "a module tree of more than " + TorchLimits.MAX_ENTRIES
          + " submodules and tensors, counting each shared one every time it appears");
    }
  }

  private void addTensors(String prefix, Map<?, ?> named, List<?> skipped) {
    for (Map.Entry<?, ?> e : named.entrySet()) {
      if (e.getValue() instanceof TensorView t && !skipped.contains(e.getKey())) {
        tensors.put(prefix + e.getKey(), t);
      }
    }
  }

  private static ModuleFacts facts(PyGlobal type, Map<?, ?> attributes) {
    OptionalDouble epsilon = number(attributes.get("eps"));
    Optional<OptionalDouble> momentum = !attributes.containsKey("momentum") ? Optional.empty()
        : Optional.of(number(attributes.get("momentum")));
    Optional<Boolean> tracks = attributes.get("track_running_stats") instanceof Boolean b ? Optional.of(b)
        : Optional.empty();
    return new ModuleFacts(type, epsilon, momentum, tracks);
  }

  private static OptionalDouble number(Object value) {
    if (value instanceof Double d) {
      return OptionalDouble.of(d);
    }
    if (value instanceof Long l) {
      return OptionalDouble.of(l);
    }
    return OptionalDouble.empty();
  }

  private static String dropDot(String prefix) {
    return prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1);
  }
}
