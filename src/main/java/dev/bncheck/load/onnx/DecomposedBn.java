package dev.bncheck.load.onnx;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.onnx.OnnxProto.Attribute;
import dev.bncheck.load.onnx.OnnxProto.Node;
import dev.bncheck.load.onnx.OnnxProto.TensorProto;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.UnresolvedLayer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds batch normalization written out as elementwise operators, as exporters other than
 * PyTorch's BatchNorm modules leave it (tf2onnx and keras2onnx without folding, hand-written BN
 * layers, {@code do_constant_folding=False}): {@code Sub(X, mean)}, then {@code Div} by
 * {@code Sqrt(Add(var, epsilon))} or {@code Mul} by its {@code Reciprocal}, then optionally
 * {@code Mul(gamma)} and {@code Add(beta)}. Every parameter must be a constant reached through
 * Identity, Unsqueeze or Reshape nodes, one value per channel along one axis, so that the layer's
 * real moving statistics are known. A per-channel {@code Mul} then {@code Add} whose constants
 * are not so structured (BN folded into a scale and an offset) is reported as unresolved: the
 * statistics were folded away and cannot be recovered.
 */
final class DecomposedBn {

  /** How deep a chain of Identity, Unsqueeze and Reshape nodes to a constant is followed. */
  private static final int MAX_CHAIN = 8;

  static final String FOLDED_OP = "Mul, Add (per-channel scale and offset)";

  static final String FOLDED_DEVIATION_OP = "Sub, Div (per-channel mean and deviation constants)";

  static final String BATCH_STATISTICS_OP = "ReduceMean, Sub (a mean over the batch axis)";

  /** A node input: the node's position in the main graph and the input's index. */
  record Reader(int position, int slot) {}

  /**
   * Where recalibration writes a pattern's statistics: the node inputs that read the stored mean
   * and variance.
   *
   * @param notWritable why the statistics cannot be replaced for this layer alone, if so
   */
  record Readers(Reader mean, Reader variance, Optional<String> notWritable) {}

  /**
   * A BN layer found as a pattern.
   *
   * @param node a stand-in with BatchNormalization's inputs and output: X, the scale's and
   *     offset's names ({@code ""} when absent), the mean's and variance's names as stored, and
   *     the pattern's last output; its op names the pattern's operators
   * @param name the layer's name before names are made unique
   * @param last the position of the pattern's last node
   */
  record Match(Node node, String name, int last, double epsilon, int channelAxis, double[] gamma, boolean hasGamma,
      double[] beta, boolean hasBeta, double[] mean, double[] variance, TensorProto storedMean,
      TensorProto storedVariance, Readers readers) {

    BnLayer layer(String uniqueName) {
      return BnLayer.builder(uniqueName, "operators " + node.name()).channelAxis(channelAxis).epsilon(epsilon)
          .gamma(hasGamma ? gamma : null).beta(hasBeta ? beta : null).statistics(mean, variance).build();
    }
  }

  /**
   * @param matches the patterns found, by the position of their first node (the Sub)
   * @param folded per-channel scales and offsets, as unresolved layers
   */
  record Found(Map<Integer, Match> matches, List<UnresolvedLayer> folded) {}

  /** A constant reached from a node's input, with the node that reads it as stored. */
  private record Resolved(double[] values, long[] dims, TensorProto stored, Reader reader, boolean exclusive) {

    /** The channel count and the channel axis counted from the end (-1 the last), or null. */
    int[] perChannel() {
      int axis = -1;
      for (int i = 0; i < dims.length; i++) {
        if (dims[i] != 1) {
          if (axis >= 0) {
            return null;
          }
          axis = i;
        }
      }
      // a scalar, or one value along every axis, names no channel axis
      return axis < 0 || values.length != dims[axis] ? null : new int[] {(int) dims[axis], axis - dims.length};
    }
  }

  private final String file;
  private final List<Node> nodes;
  private final Map<String, TensorProto> constants;
  private final ExternalData external;
  private final long opset;
  private final Map<String, Integer> producers = new HashMap<>();
  private final Map<String, Integer> readers = new HashMap<>();
  private final Map<String, List<Integer>> readerPositions = new HashMap<>();

  private DecomposedBn(String file, OnnxProto.Model model, Map<String, TensorProto> constants, ExternalData external) {
    this.file = file;
    this.nodes = model.graph().nodes();
    this.constants = constants;
    this.external = external;
    this.opset = model.defaultOpset();
    for (int p = 0; p < nodes.size(); p++) {
      for (String output : nodes.get(p).outputs()) {
        producers.put(output, p);
      }
      for (String input : nodes.get(p).inputs()) {
        readers.merge(input, 1, Integer::sum);
        readerPositions.computeIfAbsent(input, k -> new ArrayList<>()).add(p);
      }
      for (OnnxProto.Graph body : nodes.get(p).subgraphs()) {
        countSubgraphReaders(body);
      }
    }
    // a graph output is read from outside: a pattern cannot end a layer inside it
    model.graph().outputs().forEach(o -> readers.merge(o.name(), 1, Integer::sum));
  }

  private void countSubgraphReaders(OnnxProto.Graph graph) {
    for (Node node : graph.nodes()) {
      node.inputs().forEach(i -> readers.merge(i, 1, Integer::sum));
      node.subgraphs().forEach(this::countSubgraphReaders);
    }
  }

  /**
   * @param constants the tensors the model stores by the name they are read under (initializers,
   *     Constant nodes, Identity nodes of either)
   * @throws InvalidInputException when a pattern's epsilon is not a finite, non-negative number
   */
  static Found find(String file, OnnxProto.Model model, Map<String, TensorProto> constants, ExternalData external) {
    DecomposedBn finder = new DecomposedBn(file, model, constants, external);
    Map<Integer, Match> matches = new LinkedHashMap<>();
    Set<Integer> used = new HashSet<>();
    for (int p = 0; p < finder.nodes.size(); p++) {
      Node node = finder.nodes.get(p);
      if (is(node, "Sub")) {
        List<Integer> positions = new ArrayList<>();
        Match m = finder.match(p, positions);
        if (m != null) {
          matches.put(p, m);
          used.addAll(positions);
        }
      }
    }
    List<UnresolvedLayer> folded = new ArrayList<>();
    for (int p = 0; p < finder.nodes.size(); p++) {
      if (!used.contains(p)) {
        int position = p;
        finder.folded(position, used).or(() -> finder.foldedDeviation(position))
            .or(() -> finder.batchStatistics(position)).ifPresent(folded::add);
      }
    }
    return new Found(matches, folded);
  }

  private Match match(int subPosition, List<Integer> positions) {
    Node sub = nodes.get(subPosition);
    Resolved mean = resolve(sub.inputs().get(1), new Reader(subPosition, 1), true, 0);
    if (mean == null || mean.perChannel() == null || resolve(sub.inputs().get(0), null, true, 0) != null) {
      return null;
    }
    int[] channels = mean.perChannel();
    positions.add(subPosition);
    Integer normalize = onlyReader(sub.outputs().get(0));
    if (normalize == null) {
      return null;
    }
    Node n = nodes.get(normalize);
    String deviation;
    // tensors on the way from the statistics to the normalization that other nodes read too
    List<String> shared = new ArrayList<>();
    if (is(n, "Div") && n.inputs().get(0).equals(sub.outputs().get(0))) {
      deviation = n.inputs().get(1);
    } else if (is(n, "Mul")) {
      String other = other(n, sub.outputs().get(0));
      Integer reciprocal = other == null ? null : producers.get(other);
      if (reciprocal == null || !is(nodes.get(reciprocal), "Reciprocal")) {
        return null;
      }
      sharedIf(other, shared);
      positions.add(reciprocal);
      deviation = nodes.get(reciprocal).inputs().get(0);
    } else {
      return null;
    }
    positions.add(normalize);
    Integer sqrt = producers.get(deviation);
    if (sqrt == null || !is(nodes.get(sqrt), "Sqrt")) {
      return null;
    }
    sharedIf(deviation, shared);
    String shifted = nodes.get(sqrt).inputs().get(0);
    Integer add = producers.get(shifted);
    if (add == null || !is(nodes.get(add), "Add")) {
      return null;
    }
    sharedIf(shifted, shared);
    positions.add(sqrt);
    positions.add(add);
    // the operators in the order they compute, as a user reads the graph
    List<String> ops = new ArrayList<>(List.of("Sub", "Add", "Sqrt"));
    ops.addAll(is(n, "Div") ? List.of("Div") : List.of("Reciprocal", "Mul"));
    Node addNode = nodes.get(add);
    Resolved variance = null;
    Resolved epsilon = null;
    for (int slot = 0; slot < 2; slot++) {
      Resolved r = resolve(addNode.inputs().get(slot), new Reader(add, slot), true, 0);
      if (r != null && r.values().length == 1) {
        epsilon = r;
      } else if (r != null && Arrays.equals(r.perChannel(), channels)) {
        variance = r;
      }
    }
    if (variance == null || epsilon == null) {
      return null;
    }
    double eps = epsilon.stored().dataType() == OnnxProto.FLOAT
        ? Double.parseDouble(Float.toString((float) epsilon.values()[0])) : epsilon.values()[0];
    if (!Double.isFinite(eps) || eps < 0) {
      throw new InvalidInputException(file, "node " + addNode.label(), "the epsilon " + addNode.inputs().get(
          epsilon.reader().slot()) + " of a batch normalization written out as operators is " + eps
          + "; it must be a finite number, 0 or more");
    }
    String output = n.outputs().get(0);
    int last = normalize;
    Resolved gamma = null;
    Resolved beta = null;
    Integer next = onlyReader(output);
    if (next != null && is(nodes.get(next), "Mul")) {
      gamma = perChannelOperand(nodes.get(next), output, next, channels);
      if (gamma != null) {
        positions.add(next);
        ops.add("Mul");
        last = next;
        output = nodes.get(next).outputs().get(0);
        next = onlyReader(output);
      }
    }
    if (next != null && is(nodes.get(next), "Add")) {
      beta = perChannelOperand(nodes.get(next), output, next, channels);
      if (beta != null) {
        positions.add(next);
        ops.add("Add");
        last = next;
        output = nodes.get(next).outputs().get(0);
      }
    }
    int c = channels[0];
    String meanName = readName(mean.reader());
    String varianceName = readName(variance.reader());
    String label = sub.label() + " to " + nodes.get(last).label();
    Node standIn = new Node(label, String.join(", ", ops), "", List.of(sub.inputs().get(0),
        gamma == null ? "" : readName(gamma.reader()), beta == null ? "" : readName(beta.reader()), meanName,
        varianceName), List.of(output), Map.of(), List.of());
    if (!mean.exclusive()) {
      shared.add("the mean as the Sub reads it");
    }
    if (!variance.exclusive()) {
      shared.add("the variance as the Add reads it");
    }
    Optional<String> notWritable = shared.isEmpty() ? Optional.empty() : Optional.of("other nodes also read "
        + String.join(", ", shared) + ": new statistics written for this layer would change them too; bncheck"
        + " writes the statistics of a batch normalization written out as operators only where they serve it alone");
    return new Match(standIn, name(meanName, sub), last, eps, channels[1], gamma == null ? ones(c) : gamma.values(),
        gamma != null, beta == null ? new double[c] : beta.values(), beta != null, mean.values(), variance.values(),
        mean.stored(), variance.stored(), new Readers(mean.reader(), variance.reader(), notWritable));
  }

  /**
   * A per-channel Mul whose only reader is a per-channel Add: BN folded into a scale and an offset
   * (tf2onnx's and keras2onnx's default), whose moving statistics cannot be told apart from the
   * learned scale and offset any more.
   */
  private Optional<UnresolvedLayer> folded(int position, Set<Integer> used) {
    Node mul = nodes.get(position);
    if (!is(mul, "Mul")) {
      return Optional.empty();
    }
    for (int slot = 0; slot < 2; slot++) {
      Resolved scale = resolve(mul.inputs().get(slot), new Reader(position, slot), true, 0);
      // the scale after a normalization whose statistics did not fit the pattern is not a folded layer
      if (scale == null || scale.perChannel() == null || resolve(mul.inputs().get(1 - slot), null, true, 0) != null
          || normalizes(producers.get(mul.inputs().get(1 - slot)))) {
        continue;
      }
      Integer add = onlyReader(mul.outputs().get(0));
      if (add == null || used.contains(add) || !is(nodes.get(add), "Add")
          || perChannelOperand(nodes.get(add), mul.outputs().get(0), add, scale.perChannel()) == null) {
        continue;
      }
      String label = mul.label() + " to " + nodes.get(add).label();
      return Optional.of(new UnresolvedLayer(modulePath(mul), label, FOLDED_OP, "a per-channel scale and offset over "
          + scale.perChannel()[0] + " channels: batch normalization with its statistics folded in"
          + " (gamma / sqrt(var + epsilon) and beta - mean * that), or another affine layer; the moving mean and"
          + " variance cannot be recovered from it. Export without constant folding to check the layer"
          + " (docs/onnx.md)", false));
    }
    return Optional.empty();
  }

  /**
   * {@code Sub(X, mean)} then a division by a per-channel constant: a BN written out by hand,
   * exported with constant folding, which computed {@code sqrt(var + epsilon)} into one tensor.
   * The variance cannot be told from epsilon any more, so the layer is listed, not analysed; it had
   * vanished from the report, and a model whose only BN layers were such passed with "no
   * batch-normalization layers found".
   */
  private Optional<UnresolvedLayer> foldedDeviation(int position) {
    Node sub = nodes.get(position);
    if (!is(sub, "Sub")) {
      return Optional.empty();
    }
    Resolved mean = resolve(sub.inputs().get(1), null, true, 0);
    if (mean == null || mean.perChannel() == null || resolve(sub.inputs().get(0), null, true, 0) != null) {
      return Optional.empty();
    }
    Integer divide = onlyReader(sub.outputs().get(0));
    if (divide == null || !(is(nodes.get(divide), "Div") || is(nodes.get(divide), "Mul"))
        || perChannelOperand(nodes.get(divide), sub.outputs().get(0), divide, mean.perChannel()) == null) {
      return Optional.empty();
    }
    String label = sub.label() + " to " + nodes.get(divide).label();
    return Optional.of(new UnresolvedLayer(modulePath(sub), label, FOLDED_DEVIATION_OP, "a per-channel mean"
        + " subtracted and a per-channel constant divided out over " + mean.perChannel()[0] + " channels: batch"
        + " normalization written out as operators, with sqrt(var + epsilon) folded into one constant by the"
        + " exporter; the moving variance cannot be told from epsilon. Export without constant folding to check the"
        + " layer (docs/onnx.md)", false));
  }

  /**
   * {@code Sub(X, ReduceMean(X))} with the batch axis among those reduced: a normalization written
   * out by hand in training mode (or exported from one), which normalizes every sample with the
   * batch's own statistics at inference. Listed as a layer in training mode (BN002); before, it
   * was not found at all and only BN005 could show it, on data, with a free batch dimension.
   */
  private Optional<UnresolvedLayer> batchStatistics(int position) {
    Node sub = nodes.get(position);
    if (!is(sub, "Sub")) {
      return Optional.empty();
    }
    Integer reduce = producers.get(sub.inputs().get(1));
    Node mean = reduce == null ? null : nodes.get(reduce);
    // ReduceMean takes its axes as an attribute before opset 18 (one input), as an input from 18
    if (mean == null || !mean.opType().equals("ReduceMean") || !(mean.domain().isEmpty()
        || mean.domain().equals("ai.onnx")) || mean.inputs().isEmpty()
        || !mean.inputs().get(0).equals(sub.inputs().get(0))) {
      return Optional.empty();
    }
    long[] axes = opset >= 18 ? (mean.inputs().size() > 1 && !mean.inputs().get(1).isEmpty()
        ? int64s(mean.inputs().get(1)) : new long[0])
        : mean.attribute("axes").map(Attribute::ints).orElse(new long[0]);
    // no axes reduce them all (unless noop_with_empty_axes asks for none), the batch axis with them
    boolean noop = mean.attribute("noop_with_empty_axes").flatMap(Attribute::i).orElse(0L) != 0;
    boolean batch = axes != null && (axes.length == 0 ? !noop : Arrays.stream(axes).anyMatch(a -> a == 0));
    if (!batch) {
      return Optional.empty();
    }
    String label = mean.label() + " to " + sub.label();
    return Optional.of(new UnresolvedLayer(modulePath(sub), label, BATCH_STATISTICS_OP, "a normalization that"
        + " subtracts the mean over the batch axis (ReduceMean over axis 0): each sample is normalized with the"
        + " statistics of the batch it comes in, as batch normalization in training mode, so one sample alone"
        + " gets another output than in a batch. Use the running statistics at inference (a BatchNorm module in"
        + " eval(), or buffers of running mean and variance)", true));
  }

  private void sharedIf(String tensor, List<String> shared) {
    if (readers.getOrDefault(tensor, 0) != 1) {
      shared.add(tensor);
    }
  }

  /** Whether the node divides by something or multiplies by a Reciprocal: a normalization's step. */
  private boolean normalizes(Integer position) {
    if (position == null) {
      return false;
    }
    Node node = nodes.get(position);
    return is(node, "Div") || (is(node, "Mul") && node.inputs().stream().map(producers::get)
        .anyMatch(p -> p != null && is(nodes.get(p), "Reciprocal")));
  }

  /** The node's other input when it is a constant of the same channels, or null. */
  private Resolved perChannelOperand(Node node, String input, int position, int[] channels) {
    String other = other(node, input);
    if (other == null) {
      return null;
    }
    Resolved r = resolve(other, new Reader(position, node.inputs().indexOf(other)), true, 0);
    return r != null && Arrays.equals(r.perChannel(), channels) ? r : null;
  }

  /**
   * The constant a name holds, followed through Identity, Unsqueeze and Reshape nodes, or null
   * when the graph computes it from anything else.
   *
   * @param reader the node input that reads the name
   * @param exclusive whether every tensor on the way so far is read by one node only
   */
  private Resolved resolve(String name, Reader reader, boolean exclusive, int depth) {
    TensorProto stored = constants.get(name);
    if (stored != null) {
      double[] values = floats(stored);
      return values == null ? null : new Resolved(values, stored.dims(), stored, reader, exclusive);
    }
    Integer position = producers.get(name);
    if (position == null || depth >= MAX_CHAIN) {
      return null;
    }
    Node node = nodes.get(position);
    boolean alone = exclusive && readers.getOrDefault(name, 0) == 1;
    if (node.inputs().isEmpty() || !(node.domain().isEmpty() || node.domain().equals("ai.onnx"))) {
      return null;
    }
    Resolved inner = switch (node.opType()) {
      case "Identity", "Unsqueeze", "Reshape" -> resolve(node.inputs().get(0), new Reader(position, 0), alone,
          depth + 1);
      default -> null;
    };
    if (inner == null) {
      return null;
    }
    long[] dims = switch (node.opType()) {
      case "Unsqueeze" -> unsqueezed(node, inner.dims());
      case "Reshape" -> reshaped(node, inner.values().length);
      default -> inner.dims();
    };
    return dims == null ? null : new Resolved(inner.values(), dims, inner.stored(), inner.reader(), inner.exclusive());
  }

  /** Unsqueeze's result shape; its axes are an input from opset 13, an attribute before. */
  private long[] unsqueezed(Node node, long[] dims) {
    long[] axes = opset >= 13 ? (node.inputs().size() == 2 ? int64s(node.inputs().get(1)) : null)
        : node.attribute("axes").map(Attribute::ints).orElse(null);
    if (axes == null) {
      return null;
    }
    int rank = dims.length + axes.length;
    boolean[] inserted = new boolean[rank];
    for (long a : axes) {
      long axis = a < 0 ? a + rank : a;
      if (axis < 0 || axis >= rank || inserted[(int) axis]) {
        return null;
      }
      inserted[(int) axis] = true;
    }
    long[] out = new long[rank];
    for (int i = 0, from = 0; i < rank; i++) {
      out[i] = inserted[i] ? 1 : dims[from++];
    }
    return out;
  }

  /** Reshape's result shape when its shape input is a constant without 0 (copy) entries. */
  private long[] reshaped(Node node, int count) {
    long[] shape = node.inputs().size() == 2 ? int64s(node.inputs().get(1)) : null;
    if (shape == null) {
      return null;
    }
    long known = 1;
    int inferred = -1;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] == -1 && inferred < 0) {
        inferred = i;
      } else if (shape[i] > 0) {
        known *= shape[i];
      } else {
        return null;
      }
    }
    long[] out = shape.clone();
    if (inferred >= 0) {
      out[inferred] = count / Math.max(1, known);
      known *= out[inferred];
    }
    return known == count ? out : null;
  }

  private long[] int64s(String name) {
    TensorProto t = constants.get(name);
    return t == null ? null : TensorValues.int64s(t);
  }

  /** A stored tensor's floating-point values, or null when it holds none that bncheck reads. */
  private double[] floats(TensorProto t) {
    if (TensorValues.floatBytes(t.dataType()) == 0 || t.elementCount() < 0) {
      return null;
    }
    try {
      byte[] bytes = t.isExternal() ? external.read(t, t.elementCount() * TensorValues.floatBytes(t.dataType()))
          : null;
      return TensorValues.of(t, bytes);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The position of the one node that reads the tensor, when nothing else (nor the graph's outputs) does. */
  private Integer onlyReader(String tensor) {
    List<Integer> at = readerPositions.get(tensor);
    return at != null && at.size() == 1 && readers.getOrDefault(tensor, 0) == 1 ? at.get(0) : null;
  }

  private String readName(Reader reader) {
    return nodes.get(reader.position()).inputs().get(reader.slot());
  }

  /** Whether the node is the standard operator {@code op} with its usual number of inputs. */
  private static boolean is(Node node, String op) {
    int arity = op.equals("Sqrt") || op.equals("Reciprocal") ? 1 : 2;
    return node.opType().equals(op) && (node.domain().isEmpty() || node.domain().equals("ai.onnx"))
        && node.inputs().size() == arity;
  }

  /** The node's input other than {@code input}, or null when it does not read {@code input} exactly once. */
  private static String other(Node node, String input) {
    if (node.inputs().size() != 2 || node.inputs().get(0).equals(node.inputs().get(1))) {
      return null;
    }
    int at = node.inputs().indexOf(input);
    return at < 0 ? null : node.inputs().get(1 - at);
  }

  /**
   * The layer's name as its user knows it: the prefix of a mean stored as {@code bn.running_mean}
   * or {@code bn/moving_mean}, else the module path in the Sub node's name ({@code /bn/Sub} gives
   * {@code bn}).
   */
  private static String name(String mean, Node sub) {
    for (String suffix : List.of(".running_mean", "/moving_mean", "/running_mean")) {
      if (mean.endsWith(suffix) && mean.length() > suffix.length()) {
        return mean.substring(0, mean.length() - suffix.length());
      }
    }
    return modulePath(sub);
  }

  private static String modulePath(Node node) {
    String n = node.name();
    int slash = n.lastIndexOf('/');
    String path = slash > 0 ? n.substring(n.startsWith("/") ? 1 : 0, slash) : "";
    return path.isEmpty() ? node.label() : path;
  }

  private static double[] ones(int n) {
    double[] v = new double[n];
    Arrays.fill(v, 1);
    return v;
  }
}
