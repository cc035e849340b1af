package dev.bncheck.load.onnx;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.onnx.OnnxProto.Node;
import dev.bncheck.load.onnx.OnnxProto.TensorProto;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.GraphFacts;
import dev.bncheck.model.MomentumConvention;
import dev.bncheck.model.UnresolvedLayer;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Finds the BatchNormalization nodes of a model's main graph (opsets 1 to 15 and later) and
 * reads their parameters from initializers or Constant nodes. Nodes that read the same
 * parameters (a PyTorch module called twice) are one layer with several nodes, as training
 * updates one set of statistics from both. BN written out as elementwise operators is found by
 * {@link DecomposedBn} and takes its place in network order.
 */
final class OnnxBnLayers {

  static final String OP = "BatchNormalization";

  /** ONNX's defaults when the attributes are left out. */
  private static final float DEFAULT_EPSILON = 1e-5f;

  /**
   * A BN node and the layer it computes.
   *
   * @param layer the layer's index in network order
   * @param trainingMode whether the node normalizes with the batch's statistics
   * @param position the node's position in the main graph
   */
  record BnNode(int layer, Node node, boolean trainingMode, int position) {}

  /**
   * Where a layer's moving statistics are stored: the tensors its input_mean and input_var are read
   * from (an initializer, a Constant node's value, or the initializer an Identity node reads).
   *
   * @param pattern for a layer written out as operators, the node inputs that read them; empty for
   *     a BatchNormalization node
   */
  record StoredStatistics(TensorProto mean, TensorProto variance, Optional<DecomposedBn.Readers> pattern) {}

  /**
   * What the graph holds: layers in network order, their nodes, and BN nodes that could not be read.
   *
   * @param statistics where each layer's statistics are stored, by layer
   */
  record Found(List<BnLayer> layers, List<BnNode> nodes, List<UnresolvedLayer> unresolved,
      List<StoredStatistics> statistics) {}

  private OnnxBnLayers() {}

  static Found find(String file, OnnxProto.Model model, ExternalData external) {
    Map<String, TensorProto> constants = new HashMap<>();
    model.graph().initializers().forEach(t -> constants.put(t.name(), t));
    for (Node node : model.graph().nodes()) {
      if (node.opType().equals("Constant") && node.outputs().size() == 1) {
        constant(node).ifPresent(t -> constants.put(node.outputs().get(0), t));
      }
    }
    // The TorchScript exporter stores equal initializers once and reads the copies through
    // Identity nodes (an untrained layer's running_var equals its weight: all ones)
    for (Node node : model.graph().nodes()) {
      if (node.opType().equals("Identity") && node.inputs().size() == 1 && node.outputs().size() == 1
          && constants.containsKey(node.inputs().get(0))) {
        constants.putIfAbsent(node.outputs().get(0), constants.get(node.inputs().get(0)));
      }
    }
    DecomposedBn.Found decomposed = DecomposedBn.find(file, model, constants, external);
    long opset = model.defaultOpset();
    MomentumConvention convention = producedByPyTorch(model) ? MomentumConvention.PYTORCH : MomentumConvention.KERAS;
    Map<List<String>, Integer> layerOf = new LinkedHashMap<>();
    List<List<Node>> nodesOf = new ArrayList<>();
    List<BnLayer> layers = new ArrayList<>();
    List<BnNode> nodes = new ArrayList<>();
    List<UnresolvedLayer> unresolved = new ArrayList<>();
    List<StoredStatistics> statistics = new ArrayList<>();
    Map<String, Integer> names = new HashMap<>();
    List<Node> graphNodes = model.graph().nodes();
    for (int position = 0; position < graphNodes.size(); position++) {
      Node node = graphNodes.get(position);
      DecomposedBn.Match pattern = decomposed.matches().get(position);
      if (pattern != null) {
        nodesOf.add(new ArrayList<>(List.of(pattern.node())));
        nodes.add(new BnNode(layers.size(), pattern.node(), false, pattern.last()));
        layers.add(pattern.layer(unique(pattern.name(), names)));
        statistics.add(new StoredStatistics(pattern.storedMean(), pattern.storedVariance(),
            Optional.of(pattern.readers())));
        continue;
      }
      if (!node.opType().equals(OP) || !OnnxSafety.STANDARD_DOMAINS.contains(node.domain())
          || node.domain().equals("ai.onnx.ml")) {
        continue;
      }
      boolean training = trainingMode(node, opset);
      if (node.inputs().size() < 5) {
        throw new InvalidInputException(file, "node " + node.label(), OP + " with " + node.inputs().size()
            + " inputs; it takes X, scale, B, input_mean and input_var");
      }
      List<String> key = List.copyOf(node.inputs().subList(1, 5));
      Integer known = layerOf.get(key);
      if (known != null) {
        nodesOf.get(known).add(node);
        nodes.add(new BnNode(known, node, training, position));
        continue;
      }
      String name = unique(layerName(node, nodes.size() + unresolved.size()), names);
      try {
        BnLayer layer = layer(file, node, name, constants, external, opset, convention);
        layerOf.put(key, layers.size());
        nodesOf.add(new ArrayList<>(List.of(node)));
        nodes.add(new BnNode(layers.size(), node, training, position));
        layers.add(layer);
        statistics.add(new StoredStatistics(constants.get(key.get(2)), constants.get(key.get(3)), Optional.empty()));
      } catch (Unreadable e) {
        unresolved.add(new UnresolvedLayer(name, node.label(), OP, e.getMessage(), training));
      }
    }
    for (UnresolvedLayer folded : decomposed.folded()) {
      unresolved.add(new UnresolvedLayer(unique(folded.name(), names), folded.node(), folded.op(), folded.reason(),
          folded.trainingMode()));
    }
    for (Node node : graphNodes) {
      for (OnnxProto.Graph body : node.subgraphs()) {
        nested(body, node, opset, names, unresolved);
      }
    }
    List<BnLayer> withFacts = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      int layer = i;
      List<String> all = nodesOf.get(i).stream().map(Node::label).toList();
      List<String> training = nodes.stream().filter(n -> n.layer() == layer && n.trainingMode())
          .map(n -> n.node().label()).toList();
      BnLayer l = layers.get(i);
      String origin = l.origin() + (all.size() > 1 ? " (its statistics also serve " + String.join(", ",
          all.subList(1, all.size())) + ")" : "");
      withFacts.add(BnLayer.builder(l.name(), origin).channelAxis(l.channelAxis()).epsilon(l.epsilon())
          .momentum(l.momentum(), l.momentumConvention()).gamma(l.gamma()).beta(l.beta())
          .statistics(l.movingMean(), l.movingVariance())
          .graph(Optional.of(new GraphFacts(all, nodesOf.get(i).get(0).opType(), training))).build());
    }
    return new Found(withFacts, nodes, unresolved, statistics);
  }

  /**
   * BN nodes inside If branches and Loop or Scan bodies, at any depth: listed as unresolved, since
   * nothing outside the body can capture what reaches them.
   */
  private static void nested(OnnxProto.Graph body, Node owner, long opset, Map<String, Integer> names,
      List<UnresolvedLayer> unresolved) {
    for (Node node : body.nodes()) {
      if (node.opType().equals(OP) && node.inputs().size() >= 5) {
        unresolved.add(new UnresolvedLayer(unique(layerName(node, unresolved.size()), names), node.label(), OP,
            "inside the subgraph of " + owner.opType() + " node " + owner.label() + "; bncheck reads the BN layers of"
            + " the main graph only", trainingMode(node, opset)));
      }
      for (OnnxProto.Graph inner : node.subgraphs()) {
        nested(inner, node, opset, names, unresolved);
      }
    }
  }

  /**
   * Whether the node normalizes with the batch's own statistics: {@code training_mode=1} from
   * opset 14; before, a node asked for the batch statistics or the updated running ones as extra
   * outputs, which only training mode computes.
   */
  static boolean trainingMode(Node node, long opset) {
    if (opset >= 14) {
      return node.attribute("training_mode").flatMap(OnnxProto.Attribute::i).orElse(0L) != 0;
    }
    return node.outputs().stream().skip(1).anyMatch(o -> !o.isEmpty());
  }

  /** PyTorch's exporters write {@code pytorch} as the producer. */
  static boolean producedByPyTorch(OnnxProto.Model model) {
    return model.producerName().toLowerCase(java.util.Locale.ROOT).contains("torch");
  }

  private static BnLayer layer(String file, Node node, String name, Map<String, TensorProto> constants,
      ExternalData external, long opset, MomentumConvention convention) {
    if (opset < 9 && node.attribute("spatial").flatMap(OnnxProto.Attribute::i).orElse(1L) == 0) {
      throw new Unreadable("spatial=0: statistics per activation rather than per channel, which bncheck's"
          + " checks do not cover");
    }
    String[] roles = {"scale", "B", "input_mean", "input_var"};
    double[][] values = new double[4][];
    for (int k = 0; k < 4; k++) {
      String input = node.inputs().get(k + 1);
      TensorProto t = constants.get(input);
      if (t == null) {
        throw new Unreadable(roles[k] + " " + input + " is computed by the graph or fed as an input, not stored"
            + " in the model");
      }
      byte[] bytes = t.isExternal() ? external.read(t, t.elementCount() * TensorValues.floatBytes(t.dataType()))
          : null;
      try {
        values[k] = TensorValues.of(t, bytes);
      } catch (IllegalArgumentException e) {
        throw new InvalidInputException(file, "node " + node.label(), roles[k] + " " + input + " " + e.getMessage());
      }
      if (t.dims().length > 1) {
        throw new Unreadable(roles[k] + " " + input + " has dimensions " + java.util.Arrays.toString(t.dims())
            + "; bncheck reads one value per channel");
      }
    }
    int channels = values[2].length;
    if (channels == 0) {
      throw new InvalidInputException(file, "node " + node.label(), "input_mean holds no values: a BN of 0 channels");
    }
    for (int k = 0; k < 4; k++) {
      if (values[k].length != channels) {
        throw new InvalidInputException(file, "node " + node.label(), roles[k] + " holds " + values[k].length
            + " values, input_mean " + channels);
      }
    }
    double epsilon = decimal(floatAttribute(file, node, "epsilon").orElse(DEFAULT_EPSILON));
    if (!Double.isFinite(epsilon) || epsilon < 0) {
      // as for a decomposed BN's epsilon: no normalization can be computed with it
      throw new InvalidInputException(file, "node " + node.label(), "epsilon " + epsilon
          + " is not a finite, non-negative number");
    }
    Optional<Float> momentum = floatAttribute(file, node, "momentum");
    if (convention == MomentumConvention.PYTORCH && momentum.isPresent() && momentum.get() == 1.0f) {
      // PyTorch exports momentum=None (a cumulative average, as torch.optim.swa_utils.update_bn
      // sets) and momentum=0 alike as 1.0: which one the model had cannot be told
      momentum = Optional.empty();
    }
    OptionalDouble stated = momentum.isEmpty() ? OptionalDouble.empty()
        : OptionalDouble.of(convention == MomentumConvention.PYTORCH ? kerasMomentum(momentum.get())
            : decimal(momentum.get()));
    return BnLayer.builder(name, "node " + node.label()).channelAxis(1).epsilon(epsilon).momentum(stated, convention)
        .gamma(values[0]).beta(values[1]).statistics(values[2], values[3]).build();
  }

  /**
   * PyTorch's momentum {@code m} as exported, in the convention the layer records: {@code 1 - m},
   * computed on the decimal the float32 attribute shows (0.1 gives 0.9, not 0.8999999985); NaN and
   * infinities stay what they are (1 - NaN, 1 - infinity), for BN009 to report.
   */
  private static double kerasMomentum(float m) {
    return Float.isFinite(m) ? BigDecimal.ONE.subtract(new BigDecimal(Float.toString(m))).doubleValue() : 1.0 - m;
  }

  /**
   * A float attribute of the node, if given; one of another type is refused, as ONNX Runtime
   * refuses it, rather than read as absent (the default).
   */
  private static Optional<Float> floatAttribute(String file, Node node, String attribute) {
    Optional<OnnxProto.Attribute> given = node.attribute(attribute);
    if (given.isPresent() && given.get().f().isEmpty()) {
      throw new InvalidInputException(file, "node " + node.label(), "attribute " + attribute
          + " is not a single float");
    }
    return given.flatMap(OnnxProto.Attribute::f);
  }

  /**
   * The decimal a float attribute was written from: an exporter stores PyTorch's epsilon 1e-5 as
   * the float nearest to it, which widens to 9.99999974e-6, and BN009 compares with the defaults.
   */
  private static double decimal(float value) {
    return Double.parseDouble(Float.toString(value));
  }

  private static Optional<TensorProto> constant(Node node) {
    var value = node.attribute("value");
    if (value.isPresent() && value.get().t().isPresent()) {
      return value.get().t();
    }
    var floats = node.attribute("value_floats");
    if (floats.isPresent()) {
      float[] f = floats.get().floats();
      return Optional.of(new TensorProto(node.outputs().get(0), OnnxProto.FLOAT, new long[] {f.length}, null, f,
          new double[0], new long[0], new int[0], List.of()));
    }
    return Optional.empty();
  }

  /**
   * The layer's name as its user knows it: PyTorch's state-dict prefix from the running mean's
   * initializer ({@code layer1.0.bn1.running_mean}), else the module path the exporter put in
   * the node's name ({@code /layer1/layer1.0/bn1/BatchNormalization}), else the node's name.
   */
  static String layerName(Node node, int position) {
    String mean = node.inputs().get(3);
    for (String suffix : List.of(".running_mean", "/moving_mean", "/running_mean")) {
      if (mean.endsWith(suffix) && mean.length() > suffix.length()) {
        return mean.substring(0, mean.length() - suffix.length());
      }
    }
    String n = node.name();
    if (n.startsWith("/") && n.endsWith("/" + OP) && n.length() > OP.length() + 2) {
      return n.substring(1, n.length() - OP.length() - 1);
    }
    return n.isEmpty() ? OP + "_" + position : n;
  }

  private static String unique(String name, Map<String, Integer> seen) {
    int n = seen.merge(name, 1, Integer::sum);
    return n == 1 ? name : name + "#" + n;
  }

  /** A BN node whose parameters bncheck cannot read; the layer is reported as unresolved. */
  private static final class Unreadable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unreadable(String reason) {
      super(reason, null, false, false);
    }
  }
}
