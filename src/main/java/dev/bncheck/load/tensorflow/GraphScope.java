package dev.bncheck.load.tensorflow;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;

/**
 * The nodes of the top-level graph or of one function of its library, by name. Inside a
 * function a bare input name is one of the function's arguments, and node outputs are written
 * {@code node:output_arg:index}; in the top-level graph they are {@code node:index}.
 */
final class GraphScope {

  private final String name;
  private final FunctionDef function;
  private final Map<String, NodeDef> nodes = new HashMap<>();
  private final List<NodeDef> nodeList;

  private GraphScope(String name, FunctionDef function, List<NodeDef> nodeList) {
    this.name = name;
    this.function = function;
    this.nodeList = nodeList;
    for (NodeDef node : nodeList) {
      nodes.put(node.getName(), node);
    }
  }

  static GraphScope topLevel(List<NodeDef> nodes) {
    return new GraphScope("", null, nodes);
  }

  static GraphScope of(FunctionDef function) {
    return new GraphScope(function.getSignature().getName(), function, function.getNodeDefList());
  }

  /** The function's name, or empty for the top-level graph. */
  String name() {
    return name;
  }

  boolean isFunction() {
    return function != null;
  }

  NodeDef node(String nodeName) {
    return nodes.get(nodeName);
  }

  List<NodeDef> nodes() {
    return nodeList;
  }

  /** The position of a function argument, or -1. */
  int argumentIndex(String argName) {
    if (function == null) {
      return -1;
    }
    List<OpDef.ArgDef> args = function.getSignature().getInputArgList();
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).getName().equals(argName)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The interface the function implements ({@code api_implements}), or null: Grappler's
   * implementation selector may run any library function with the same value in its place.
   */
  String implementedApi() {
    if (function == null) {
      return null;
    }
    var attr = function.getAttrMap().get("api_implements");
    return attr == null || attr.getS().isEmpty() ? null : attr.getS().toStringUtf8();
  }

  /** The function's input arguments; empty for the top-level graph. */
  List<OpDef.ArgDef> inputArgs() {
    return function == null ? List.of() : function.getSignature().getInputArgList();
  }

  /** The tensor a function returns as its k-th output, or null. */
  String returnedTensor(int outputIndex) {
    if (function == null) {
      return null;
    }
    List<OpDef.ArgDef> outputs = function.getSignature().getOutputArgList();
    if (outputIndex < 0 || outputIndex >= outputs.size()) {
      return null;
    }
    return function.getRetMap().get(outputs.get(outputIndex).getName());
  }

  /** The function's output arguments; empty for the top-level graph. */
  List<OpDef.ArgDef> outputArgs() {
    return function == null ? List.of() : function.getSignature().getOutputArgList();
  }

  /** Every tensor the function returns, and the nodes it must run (control outputs). */
  List<String> returnedTensorsAndControlOutputs() {
    if (function == null) {
      return List.of();
    }
    List<String> out = new java.util.ArrayList<>(function.getRetMap().values());
    out.addAll(function.getControlRetMap().values());
    return out;
  }

  /**
   * A reference to one input of a node: the producing node (or argument), the output argument
   * name (functions only; null in the top-level graph) and the index.
   */
  record Ref(String node, String outputArg, int index, boolean control) {

    // Compiled once: the safety checks test every input of every node they walk, and
    // String.matches compiles its pattern on each call
    private static final Pattern OUTPUT_ARG = Pattern.compile("[A-Za-z0-9_]+");
    private static final Pattern INDEX = Pattern.compile("0|[1-9][0-9]{0,8}");
    private static final Pattern ARG_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /**
     * Whether the reference is written as TensorFlow writes one: a node name, an output
     * argument of letters, digits and underscores, and an index without sign, leading zero or
     * more digits than an int holds. TensorFlow reads other forms its own way ({@code :4294967297}
     * as output 1), so a check that read them otherwise would check another tensor than runs.
     */
    static boolean canonical(String input) {
      String s = input.startsWith("^") ? input.substring(1) : input;
      String[] parts = s.split(":", -1);
      if (parts.length > 3 || parts[0].isEmpty()) {
        return false;
      }
      if (parts.length == 3 && !OUTPUT_ARG.matcher(parts[1]).matches()) {
        return false;
      }
      String last = parts[parts.length - 1];
      return parts.length == 1 || INDEX.matcher(last).matches()
          || (parts.length == 2 && ARG_NAME.matcher(last).matches());
    }

    /** Parses {@code ^ctrl}, {@code node}, {@code node:3} or {@code node:out_arg:3}. */
    static Ref parse(String input) {
      boolean control = input.startsWith("^");
      String s = control ? input.substring(1) : input;
      String[] parts = s.split(":");
      String outputArg = parts.length == 3 ? parts[1] : null;
      int index = 0;
      if (parts.length >= 2) {
        try {
          index = Integer.parseInt(parts[parts.length - 1]);
        } catch (NumberFormatException e) {
          index = 0;
        }
      }
      return new Ref(parts[0], outputArg, index, control);
    }
  }
}
