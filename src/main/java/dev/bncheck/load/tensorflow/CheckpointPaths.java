package dev.bncheck.load.tensorflow;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
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
 * constant suffixes, {@code ShardedFilename}, {@code Pack}, {@code Identity}.
 *
 * <p>A constant suffix may hold letters, digits, {@code _ - . /} but never {@code ..}: appended
 * to a prefix ending in {@code variables/variables}, it can then only name a file or folder
 * inside {@code variables/}. Savers need the slash: TF1 sharded saves write
 * {@code <prefix>_temp_<uuid>/part-00000-of-00001}, TF2 saves {@code <prefix>_temp/part-…}.
 */
final class CheckpointPaths {

  private static final int MAX_STEPS = 64;
  private static final Set<String> CALLS = Set.of("PartitionedCall", "StatefulPartitionedCall");

  private final CallGraph calls;
  private final GraphScope.Ref filename;

  /** @param filename the top-level tensor the caller feeds with the path ({@code saver_def.filename_tensor_name}) */
  CheckpointPaths(CallGraph calls, String filename) {
    this.calls = calls;
    this.filename = GraphScope.Ref.parse(filename);
  }

  /** Whether the tensor {@code reference} of {@code scope} is the fed path or a safe name derived from it. */
  boolean isFedPath(GraphScope scope, String reference) {
    return fed(scope, reference, 0);
  }

  private boolean fed(GraphScope scope, String reference, int depth) {
    GraphScope.Ref ref = GraphScope.Ref.parse(reference);
    if (depth > MAX_STEPS || ref.control()) {
      return false;
    }
    int arg = scope.argumentIndex(ref.node());
    if (arg >= 0) {
      return fedArgument(scope, arg, depth);
    }
    NodeDef node = scope.node(ref.node());
    if (node == null) {
      return false;
    }
    if (!scope.isFunction() && node.getName().equals(filename.node()) && ref.index() == filename.index()) {
      return true;
    }
    List<String> inputs = OriginTracer.dataInputs(node);
    return switch (node.getOp()) {
      case "Identity" -> inputs.size() == 1 && fed(scope, inputs.get(0), depth + 1);
      // the shard number and count are integers, formatted as -00000-of-00001
      case "ShardedFilename" -> inputs.size() == 3 && fed(scope, inputs.get(0), depth + 1);
      case "Pack" -> !inputs.isEmpty() && inputs.stream().allMatch(i -> fed(scope, i, depth + 1));
      case "StringJoin" -> !inputs.isEmpty() && fed(scope, inputs.get(0), depth + 1)
          && inputs.subList(1, inputs.size()).stream().allMatch(i -> safeSuffix(scope, i, depth + 1))
          && safeSeparator(node.getAttrMap().get("separator"));
      default -> false;
    };
  }

  /** An argument is the fed path when every call passes it, as a plain call's i-th input. */
  private boolean fedArgument(GraphScope function, int arg, int depth) {
    List<CallGraph.Site> sites = calls.callsOf(function.name());
    if (sites.isEmpty()) {
      return false;
    }
    for (CallGraph.Site site : sites) {
      boolean plainCall = (site.attr() == null && singleTensorArguments(function))
          || ("f".equals(site.attr()) && CALLS.contains(site.node().getOp()));
      List<String> inputs = OriginTracer.dataInputs(site.node());
      if (!plainCall || arg >= inputs.size() || !fed(site.caller(), inputs.get(arg), depth + 1)) {
        return false;
      }
    }
    return true;
  }

  private static boolean singleTensorArguments(GraphScope function) {
    return function.inputArgs().stream().allMatch(a -> a.getNumberAttr().isEmpty() && a.getTypeListAttr().isEmpty());
  }

  /** A constant string (or a choice between two, as TF2's saver makes) that cannot leave the folder. */
  private boolean safeSuffix(GraphScope scope, String reference, int depth) {
    GraphScope.Ref ref = GraphScope.Ref.parse(reference);
    if (depth > MAX_STEPS || ref.control() || scope.argumentIndex(ref.node()) >= 0) {
      return false;
    }
    NodeDef node = scope.node(ref.node());
    if (node == null) {
      return false;
    }
    List<String> inputs = OriginTracer.dataInputs(node);
    return switch (node.getOp()) {
      case "Const" -> safeConstant(node.getAttrMap().get("value"));
      case "Identity" -> inputs.size() == 1 && safeSuffix(scope, inputs.get(0), depth + 1);
      case "Select", "SelectV2" -> inputs.size() == 3 && safeSuffix(scope, inputs.get(1), depth + 1)
          && safeSuffix(scope, inputs.get(2), depth + 1);
      default -> false;
    };
  }

  private static boolean safeConstant(AttrValue value) {
    if (value == null || value.getTensor().getDtype() != DataType.DT_STRING
        || value.getTensor().getStringValCount() == 0) {
      return false;
    }
    return value.getTensor().getStringValList().stream().allMatch(CheckpointPaths::safeText);
  }

  private static boolean safeSeparator(AttrValue separator) {
    return separator == null || safeText(separator.getS());
  }

  private static boolean safeText(ByteString bytes) {
    String s = bytes.toString(StandardCharsets.ISO_8859_1);
    return !s.contains("..") && s.chars().allMatch(c -> Character.isLetterOrDigit(c) && c < 128
        || c == '_' || c == '-' || c == '.' || c == '/');
  }
}
