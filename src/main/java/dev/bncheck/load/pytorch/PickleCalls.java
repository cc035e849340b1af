package dev.bncheck.load.pytorch;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The functions a torch.save pickle may call, each carried out in Java: the tensor and parameter
 * rebuilders, the containers of a state_dict and of a pickled module's attributes. None of them
 * allocates more than a constant for its arguments, so that a short pickle calling one again and
 * again cannot fill the heap. Every other
 * call is refused by name; this list is the whole of what a checkpoint can make bncheck do.
 */
final class PickleCalls {

  /** How the unpickler reports a refused call or malformed arguments. */
  interface Failures {
    dev.bncheck.load.InvalidInputException refusal(PyGlobal global, String what);

    dev.bncheck.load.InvalidInputException error(String problem);
  }

  private PickleCalls() {}

  static Object call(PyGlobal f, PyTuple args, Failures failures) {
    return switch (f.qualifiedName()) {
      case "collections.OrderedDict" -> orderedDict(args, failures);
      case "builtins.set", "builtins.frozenset" -> {
        // only the items matter to bncheck (a module's _non_persistent_buffers_set); a view, not a
        // copy, so that calling it again and again on one long list costs no memory
        yield args.size() == 0 ? new ArrayList<>() : Collections.unmodifiableList(list(args.get(0), f, failures));
      }
      case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2" -> tensor(f, args, failures);
      case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
        // a Parameter is its data; requires_grad, hooks and extra state do not change the values
        if (args.size() < 3 || !(args.get(0) instanceof TensorView data)) {
          throw failures.error(f.qualifiedName() + " called with " + describe(args) + ", expected (tensor, bool, hooks)");
        }
        yield data;
      }
      case "torch._tensor._rebuild_from_type_v2" -> fromType(f, args, failures);
      case "copyreg._reconstructor" -> {
        // copyreg's protocol-0/1 form of cls.__new__(cls) for plain classes
        if (args.size() != 3 || !(args.get(0) instanceof PyGlobal cls) || !(args.get(1) instanceof PyGlobal base)
            || !base.is("builtins.object")) {
          throw failures.error("copyreg._reconstructor called with " + describe(args));
        }
        yield new PyObject(cls);
      }
      // values a training checkpoint keeps beside its state_dict: a device, bytes (which pickle
      // protocol 2 writes as _codecs.encode(text, "latin1")), a complex number, NumPy scalars and
      // arrays (an epoch as np.int64, a random state; numpy 1 and 2 name their module apart), a
      // shape (torch.Size, which torch.load's weights_only mode also takes), a date, a duration,
      // a path. bncheck needs none of them: each becomes an inert placeholder of constant size, its
      // BUILD state is kept as the pickle gave it, and nothing runs
      case "torch.device", "_codecs.encode", "builtins.complex", "numpy.dtype", "numpy.core.multiarray.scalar",
          "numpy._core.multiarray.scalar", "numpy.core.multiarray._reconstruct",
          "numpy._core.multiarray._reconstruct", "torch.Size", "datetime.datetime", "datetime.date",
          "datetime.time", "datetime.timedelta", "pathlib.PurePosixPath", "pathlib.PureWindowsPath",
          "pathlib.PosixPath", "pathlib.WindowsPath" -> new PyObject(f);
      case "torch.nn.parameter.UninitializedParameter", "torch.nn.parameter.UninitializedBuffer" ->
          throw failures.error("a lazy module's uninitialized " + (f.name().endsWith("Buffer") ? "buffer" : "parameter")
              + " (" + f.qualifiedName() + "): a LazyBatchNorm or other lazy layer saved before its first forward"
              + " pass has no shape and no values yet, and a lazy BN layer's statistics were never updated; run"
              + " one batch through the model, then save it again");
      default -> throw failures.refusal(f, "calls");
    };
  }

  /**
   * {@code OrderedDict()}: pickles fill it with SETITEMS afterwards. Copying items given as an
   * argument is refused: one list, called on again and again, would cost memory each time.
   */
  private static Object orderedDict(PyTuple args, Failures failures) {
    if (args.size() != 0) {
      throw failures.error("collections.OrderedDict called with " + describe(args) + "; a pickle creates it empty");
    }
    return new LinkedHashMap<>();
  }

  /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
  private static TensorView tensor(PyGlobal f, PyTuple args, Failures failures) {
    if (args.size() < 4 || args.size() > 7 || !(args.get(0) instanceof Storage storage)
        || !(args.get(1) instanceof Long offset) || !(args.get(2) instanceof PyTuple size)
        || !(args.get(3) instanceof PyTuple stride) || size.size() != stride.size()) {
      throw failures.error(f.qualifiedName() + " called with " + describe(args)
          + ", expected (storage, offset, size, stride, ...) with size and stride of one length");
    }
    if (size.size() > TorchLimits.MAX_RANK) {
      throw failures.error("a tensor of rank " + size.size() + ", more than " + TorchLimits.MAX_RANK);
    }
    long[] shape = longs(size, "size", failures);
    long[] strides = longs(stride, "stride", failures);
    return new TensorView(storage.file(), storage, offset, shape, strides);
  }

  /** {@code _rebuild_from_type_v2(func, type, args, state)}: a tensor subclass or a tensor with attributes. */
  private static Object fromType(PyGlobal f, PyTuple args, Failures failures) {
    if (args.size() != 4 || !(args.get(0) instanceof PyGlobal func) || !(args.get(1) instanceof PyGlobal type)
        || !(args.get(2) instanceof PyTuple funcArgs)) {
      throw failures.error(f.qualifiedName() + " called with " + describe(args) + ", expected (func, type, args, state)");
    }
    if (!(type.is("torch.Tensor") || type.is("torch.nn.parameter.Parameter"))) {
      throw failures.refusal(type, "rebuilds a tensor as the subclass");
    }
    return call(func, funcArgs, failures);
  }

  private static List<?> list(Object value, PyGlobal f, Failures failures) {
    if (value instanceof List<?> l) {
      return l;
    }
    if (value instanceof PyTuple t) {
      return t.items();
    }
    throw failures.error(f.qualifiedName() + " called with a " + RestrictedUnpickler.describe(value)
        + ", expected a list");
  }

  private static long[] longs(PyTuple tuple, String what, Failures failures) {
    long[] out = new long[tuple.size()];
    for (int i = 0; i < out.length; i++) {
      if (!(tuple.get(i) instanceof Long v)) {
        throw failures.error("a tensor's " + what + " holds a " + RestrictedUnpickler.describe(tuple.get(i)));
      }
      out[i] = v;
    }
    return out;
  }

  private static String describe(PyTuple args) {
    List<String> types = new ArrayList<>();
    for (Object a : args.items()) {
      types.add(RestrictedUnpickler.describe(a));
    }
    return "(" + String.join(", ", types) + ")";
  }
}
