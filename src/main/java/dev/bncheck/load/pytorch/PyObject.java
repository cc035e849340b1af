package dev.bncheck.load.pytorch;

import java.util.Map;
import java.util.Optional;

/**
 * An instance a pickle creates with {@code cls.__new__(cls)} and fills with {@code BUILD}: a
 * whole pickled {@code nn.Module} is a tree of these. It stays a record of the class's name and
 * the state the pickle gave it; the class itself is never looked up, so none of its code runs.
 */
final class PyObject {

  private final PyGlobal type;
  private Object state = PyNone.NONE;

  PyObject(PyGlobal type) {
    this.type = type;
  }

  PyGlobal type() {
    return type;
  }

  void setState(Object state) {
    this.state = state;
  }

  /**
   * The instance's attributes: the state when it is a dict, or the first of a {@code (dict,
   * slots)} pair as Python writes for classes with {@code __slots__}.
   */
  Optional<Map<?, ?>> attributes() {
    Object s = state instanceof PyTuple t && t.size() == 2 ? t.get(0) : state;
    return s instanceof Map<?, ?> m ? Optional.of(m) : Optional.empty();
  }
}
