package dev.bncheck.load.tensorflow;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * Whether the path a checkpoint op reads or writes is the one its caller feeds: the model's own
 * {@code variables/variables} when loading restores it, bncheck's output when it saves. Followed
 * tensor by tensor (node and output index), through function arguments to every call site, and
 * through the string ops savers build shard names with: {@code StringJoin} of the fed prefix and
 * constant strings, {@code ShardedFilename}, {@code Pack}, {@code Identity}, and a
 * {@code Select} between constants.
 *
 * <p>What is checked is every whole suffix the ops can append to the fed prefix, not each
 * constant alone: {@code "/."} and {@code "."} are harmless apart and {@code "/.."} together. A
 * whole suffix may hold letters, digits and {@code _ - . /} but never {@code ..}: appended to a
 * prefix ending in {@code variables/variables}, it can then only name a file or folder inside
 * {@code variables/}. Savers need the slash: TF1 sharded saves write
 * {@code <prefix>_temp_<uuid>/part-00000-of-00001}, TF2 saves {@code <prefix>_temp/part-…}.
 */
final class CheckpointPaths {

  private static final int MAX_STEPS = 64;
  /** Savers choose between two suffixes at most; more alternatives than this are not a saver's. */
  private static final int MAX_ALTERNATIVES = 16;
  private static final Set<String> CALLS = Set.of("PartitionedCall", "StatefulPartitionedCall");
  /** What ShardedFilename appends; the shard number and count are integers. */
  private static final String SHARD = "-00000-of-00001";

  /** Shards a sharded save packs: one per device. */
  private static final int MAX_SHARDS = 1024;

  /** Savers' paths take a few dozen steps; a path that takes more is refused. */
  private static final int MAX_TOTAL_STEPS = 100_000;

  private final CallGraph calls;
  private final GraphScope.Ref filename;
  private final Set<String> fedElsewhere;
  /**
   * Each tensor's suffixes, computed once: a chain of Packs each reading the one before twice
   * made the walk exponential.
   */
  private final java.util.Map<String, java.util.Optional<Set<String>>> known = new java.util.HashMap<>();
  private int steps;

  /**
   * @param filename the top-level tensor the caller feeds with the path ({@code saver_def.filename_tensor_name})
   * @param fedElsewhere top-level tensors ({@code node:index}) the loader feeds with other values
   *     (asset paths): whatever their node computes, they are not constants
   */
  CheckpointPaths(CallGraph calls, String filename, Set<String> fedElsewhere) {
    this.calls = calls;
    this.filename = GraphScope.Ref.parse(filename);
    this.fedElsewhere = fedElsewhere;
  }

  /** Whether the tensor {@code reference} of {@code scope} is the fed path or a safe name below it. */
  boolean isFedPath(GraphScope scope, String reference) {
    Set<String> suffixes = suffixes(scope, reference, 0);
    return suffixes != null && suffixes.stream().allMatch(CheckpointPaths::staysBelow);
  }

  /** The suffixes the tensor may append to the fed path, or null if it is not the fed path plus constants. */
  private Set<String> suffixes(GraphScope scope, String reference, int depth) {
    return memoized(scope.name() + "\u0000" + reference, () -> computeSuffixes(scope, reference, depth));
  }

  /** What {@code compute} gives, computed once per key and not at all past the step budget. */
  private Set<String> memoized(String key, java.util.function.Supplier<Set<String>> compute) {
    var memo = known.get(key);
    if (memo != null) {
      return memo.orElse(null);
    }
    Set<String> result = ++steps > MAX_TOTAL_STEPS ? null : compute.get();
    known.put(key, java.util.Optional.ofNullable(result));
    return result;
  }

  private Set<String> computeSuffixes(GraphScope scope, String reference, int depth) {
    GraphScope.Ref ref = GraphScope.Ref.parse(reference);
    if (depth > MAX_STEPS || ref.control()) {
      return null;
    }
    int arg = scope.argumentIndex(ref.node());
    if (arg >= 0) {
      return argumentSuffixes(scope, arg, depth);
    }
    NodeDef node = scope.node(ref.node());
    if (node == null || fedElsewhere(scope, ref)) {
      return null;
    }
    if (!scope.isFunction() && node.getName().equals(filename.node()) && ref.index() == filename.index()) {
      return Set.of("");
    }
    List<String> inputs = OriginTracer.dataInputs(node);
    switch (node.getOp()) {
      case "Identity" -> {
        return inputs.size() == 1 ? suffixes(scope, inputs.get(0), depth + 1) : null;
      }
      case "ShardedFilename" -> {
        Set<String> base = inputs.size() == 3 ? suffixes(scope, inputs.get(0), depth + 1) : null;
        return base == null ? null : append(base, Set.of(SHARD));
      }
      case "Pack" -> {
        // savers pack their shard names once; Packs of Packs double the tensor at every level
        // (TensorFlow then built 2^k strings), however few distinct names they hold
        if (inputs.size() > MAX_SHARDS || inputs.stream().anyMatch(i -> packed(scope, i, 0))) {
          return null;
        }
        Set<String> all = new LinkedHashSet<>();
        for (String input : inputs) {
          Set<String> one = suffixes(scope, input, depth + 1);
          if (one == null) {
            return null;
          }
          all.addAll(one);
        }
        return all.isEmpty() || all.size() > MAX_ALTERNATIVES ? null : all;
      }
      case "StringJoin" -> {
        Set<String> joined = inputs.isEmpty() ? null : suffixes(scope, inputs.get(0), depth + 1);
        AttrValue separatorAttr = node.getAttrMap().get("separator");
        String separator = separatorAttr == null ? "" : separatorAttr.getS().toString(StandardCharsets.ISO_8859_1);
        for (int i = 1; joined != null && i < inputs.size(); i++) {
          Set<String> constant = constants(scope, inputs.get(i), depth + 1);
          joined = constant == null ? null : append(append(joined, Set.of(separator)), constant);
        }
        return joined;
      }
      default -> {
        return null;
      }
    }
  }

  /** An argument's suffixes, when every call passes it as a plain call's i-th input: those of all calls. */
  private Set<String> argumentSuffixes(GraphScope function, int arg, int depth) {
    List<CallGraph.Site> sites = calls.callsOf(function.name());
    Set<String> all = new LinkedHashSet<>();
    for (CallGraph.Site site : sites) {
      boolean plainCall = (site.attr() == null && singleTensorArguments(function))
          || ("f".equals(site.attr()) && CALLS.contains(site.node().getOp()));
      List<String> inputs = OriginTracer.dataInputs(site.node());
      Set<String> passed = plainCall && arg < inputs.size() ? suffixes(site.caller(), inputs.get(arg), depth + 1) : null;
      if (passed == null) {
        return null;
      }
      all.addAll(passed);
    }
    return all.isEmpty() || all.size() > MAX_ALTERNATIVES ? null : all;
  }

  private static boolean singleTensorArguments(GraphScope function) {
    return function.inputArgs().stream().allMatch(a -> a.getNumberAttr().isEmpty() && a.getTypeListAttr().isEmpty());
  }

  /** The values a constant string tensor may take (a choice between constants, as TF2's saver makes), or null. */
  private Set<String> constants(GraphScope scope, String reference, int depth) {
    return memoized(scope.name() + "\u0001" + reference, () -> computeConstants(scope, reference, depth));
  }

  private Set<String> computeConstants(GraphScope scope, String reference, int depth) {
    GraphScope.Ref ref = GraphScope.Ref.parse(reference);
    if (depth > MAX_STEPS || ref.control() || scope.argumentIndex(ref.node()) >= 0) {
      return null;
    }
    NodeDef node = scope.node(ref.node());
    if (node == null || fedElsewhere(scope, ref)) {
      return null;
    }
    List<String> inputs = OriginTracer.dataInputs(node);
    switch (node.getOp()) {
      case "Const" -> {
        AttrValue value = node.getAttrMap().get("value");
        // TensorFlow reads a non-empty tensor_content in place of string_val: a constant written
        // both ways says one thing to a reader of string_val and another to TensorFlow
        if (value == null || value.getTensor().getDtype() != DataType.DT_STRING
            || value.getTensor().getStringValCount() == 0 || !value.getTensor().getTensorContent().isEmpty()) {
          return null;
        }
        Set<String> out = new LinkedHashSet<>();
        value.getTensor().getStringValList().forEach(b -> out.add(b.toString(StandardCharsets.ISO_8859_1)));
        return out.size() > MAX_ALTERNATIVES ? null : out;
      }
      case "Identity" -> {
        return inputs.size() == 1 ? constants(scope, inputs.get(0), depth + 1) : null;
      }
      case "Select", "SelectV2" -> {
        if (inputs.size() != 3) {
          return null;
        }
        Set<String> a = constants(scope, inputs.get(1), depth + 1);
        Set<String> b = constants(scope, inputs.get(2), depth + 1);
        if (a == null || b == null) {
          return null;
        }
        Set<String> out = new LinkedHashSet<>(a);
        out.addAll(b);
        return out.size() > MAX_ALTERNATIVES ? null : out;
      }
      default -> {
        return null;
      }
    }
  }

  private boolean fedElsewhere(GraphScope scope, GraphScope.Ref ref) {
    return !scope.isFunction() && fedElsewhere.contains(ref.node() + ":" + ref.index());
  }

  /** Whether a tensor holds a Pack's result, through the ops that keep its shape. */
  private boolean packed(GraphScope scope, String reference, int depth) {
    GraphScope.Ref ref = GraphScope.Ref.parse(reference);
    NodeDef node = scope.argumentIndex(ref.node()) >= 0 ? null : scope.node(ref.node());
    if (node == null || depth > MAX_STEPS) {
      return node != null;
    }
    List<String> inputs = OriginTracer.dataInputs(node);
    return switch (node.getOp()) {
      case "Pack" -> true;
      case "Identity", "ShardedFilename", "StringJoin" -> !inputs.isEmpty() && packed(scope, inputs.get(0), depth + 1);
      default -> false;
    };
  }

  /** Every prefix followed by every suffix, or null when that makes more alternatives than a saver has. */
  private static Set<String> append(Set<String> prefixes, Set<String> suffixes) {
    if ((long) prefixes.size() * suffixes.size() > MAX_ALTERNATIVES) {
      return null;
    }
    Set<String> out = new LinkedHashSet<>();
    for (String p : prefixes) {
      for (String s : suffixes) {
        out.add(p + s);
      }
    }
    return out;
  }

  /** Letters, digits and {@code _ - . /}, never {@code ..}: appended to a path, it stays below it. */
  static boolean staysBelow(String s) {
    return !s.contains("..") && s.chars().allMatch(c -> (Character.isLetterOrDigit(c) && c < 128)
        || c == '_' || c == '-' || c == '.' || c == '/');
  }
}
