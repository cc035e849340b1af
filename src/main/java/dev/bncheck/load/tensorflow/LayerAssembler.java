package dev.bncheck.load.tensorflow;

import dev.bncheck.model.BnLayer;
import dev.bncheck.model.GraphFacts;
import dev.bncheck.model.UnresolvedLayer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * Turns the BN nodes a signature runs into layers: one layer per set of parameters however
 * many traced copies compute it, named as the user knows it (the variable scope or Keras layer
 * name), with the parameter values read from constants or variables.
 */
final class LayerAssembler {

  /** Everything found in one graph. */
  /**
   * @param takenBranches If branches always taken, whose nodes a copy may compute outside the If
   *     (see {@link DeadBranches#alwaysTaken})
   */
  record Layers(List<BnLayer> layers, List<UnresolvedLayer> unresolved, List<List<BnNode>> nodesPerLayer,
      Set<CallContext> takenBranches) {

    Layers withTakenBranches(Set<CallContext> branches) {
      return new Layers(layers, unresolved, nodesPerLayer, Set.copyOf(branches));
    }
  }

  private final TfGraph graph;
  private final TensorValues constants;

  private final List<String> reachedTopLevel;
  private final Map<String, String> objectPaths;

  /**
   * @param reachedTopLevel the top-level nodes the run executes, in order; variables among them
   *     are preferred when looking one up by name, since SavedModels can hold several handles
   *     of one name of which only the one the signature uses is restored
   * @param objectPaths the object-graph path of variable handles (SavedModels of TF2), which
   *     name a layer whose variables were created without a scope
   */
  LayerAssembler(TfGraph graph, TensorValues constants, List<String> reachedTopLevel,
      Map<String, String> objectPaths) {
    this.reachedTopLevel = reachedTopLevel;
    this.objectPaths = objectPaths;
    this.graph = graph;
    this.constants = constants;
  }

  /**
   * @param deadNodes BN nodes in branches the run does not take, looked at only to find a
   *     training branch that updates other variables than the serving branch reads
   * @param choosingInputs the signature input that chooses whether a live training-mode node runs
   */
  Layers assemble(List<BnNode> nodes, List<BnNode> deadNodes, Map<BnNode, String> choosingInputs,
      VariableReader variables) {
    Map<String, List<BnNode>> groups = new LinkedHashMap<>();
    for (BnNode node : nodes) {
      groups.computeIfAbsent(identity(node), k -> new ArrayList<>()).add(node);
    }
    List<Candidate> candidates = new ArrayList<>();
    for (List<BnNode> copies : groups.values()) {
      candidates.add(candidate(copies));
    }
    java.util.IdentityHashMap<Candidate, BnNode> twins = new java.util.IdentityHashMap<>();
    List<Origin.Variable> wanted = new ArrayList<>();
    for (Candidate c : candidates) {
      for (Origin o : c.parameters()) {
        if (o instanceof Origin.Variable v) {
          wanted.add(v);
        }
      }
      unsharedTrainingTwin(c, deadNodes).ifPresent(twin -> {
        twins.put(c, twin);
        for (Origin o : Arrays.asList(twin.mean(), twin.variance())) {
          if (o instanceof Origin.Variable v) {
            wanted.add(v);
          }
        }
      });
    }
    Map<String, double[]> values = variables.read(wanted);
    List<BnLayer> layers = new ArrayList<>();
    List<UnresolvedLayer> unresolved = new ArrayList<>();
    List<List<BnNode>> nodesPerLayer = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (Candidate c : candidates) {
      String name = unique(c.name(), names);
      BnNode first = c.copies().get(0);
      List<String> trainingNodes = c.copies().stream().filter(BnNode::training).map(BnNode::describe).toList();
      try {
        double[] mean = value(c.mean(), values, "moving mean");
        double[] variance = value(c.variance(), values, "moving variance");
        int channels = mean.length;
        double[] gamma = c.gamma() == null ? filled(channels, 1.0) : value(c.gamma(), values, "gamma");
        double[] beta = c.beta() == null ? new double[channels] : value(c.beta(), values, "beta");
        for (double[] v : List.of(variance, gamma, beta)) {
          if (v.length != channels) {
            throw new Unresolvable("parameters differ in length (" + channels + " and " + v.length + " channels)");
          }
        }
        if (channels == 0) {
          throw new Unresolvable("no channels");
        }
        List<BnNode> training = c.copies().stream().filter(BnNode::training).toList();
        List<String> choosing = training.stream().allMatch(choosingInputs::containsKey)
            ? training.stream().map(choosingInputs::get).distinct().sorted().toList() : List.of();
        GraphFacts facts = new GraphFacts(c.copies().stream().map(BnNode::describe).toList(), first.op(), trainingNodes,
            Optional.ofNullable(twins.get(c)).map(twin -> unshared(c, twin, values)), choosing);
        layers.add(BnLayer.builder(name, first.describe()).channelAxis(first.channelAxis()).epsilon(first.epsilon())
            .gamma(c.gamma() == null ? null : gamma).beta(c.beta() == null ? null : beta).statistics(mean, variance)
            .graph(Optional.of(facts)).build());
        nodesPerLayer.add(c.copies());
      } catch (Unresolvable e) {
        unresolved.add(new UnresolvedLayer(name, first.describe(), first.op(), e.getMessage(), !trainingNodes.isEmpty()));
      }
    }
    return new Layers(layers, unresolved, nodesPerLayer, Set.of());
  }

  /** The layer's parameters, with moving statistics looked up by name where a training-mode node does not read them. */
  private record Candidate(String name, List<BnNode> copies, Origin gamma, Origin beta, Origin mean, Origin variance) {
    List<Origin> parameters() {
      List<Origin> out = new ArrayList<>(Arrays.asList(mean, variance));
      if (gamma != null) {
        out.add(gamma);
      }
      if (beta != null) {
        out.add(beta);
      }
      return out;
    }
  }

  private Candidate candidate(List<BnNode> copies) {
    BnNode reference = copies.stream().filter(n -> !n.training()).findFirst().orElse(copies.get(0));
    Origin mean = reference.mean();
    Origin variance = reference.variance();
    String name = layerName(reference);
    if (!holdsValues(mean) || !holdsValues(variance)) {
      // A training-mode node normalizes with batch statistics and does not read the moving
      // ones; the layer still has them, under the same scope.
      mean = variableNamed(name + "/moving_mean").orElse(mean);
      variance = variableNamed(name + "/moving_variance").orElse(variance);
    }
    return new Candidate(name, copies, reference.gamma(), reference.beta(), mean, variance);
  }

  /**
   * The variable (or frozen constant) holding a layer's statistic, by name. Keras 3 and TF2 write
   * several handles for one variable (name, name_1, ...) and restore only the ones the functions
   * capture, so handles the signature reaches come first, matched with or without such a suffix.
   */
  private Optional<Origin> variableNamed(String name) {
    for (String nodeName : reachedTopLevel) {
      NodeDef node = graph.topLevel().node(nodeName);
      if (node != null && node.getOp().equals("VarHandleOp")
          && withoutCopySuffix(sharedName(node)).equals(name)) {
        return Optional.of(new Origin.Variable(name, node.getName(), node.getOp()));
      }
    }
    for (NodeDef node : graph.topLevel().nodes()) {
      String op = node.getOp();
      if (op.equals("VariableV2") || op.equals("Variable") || op.equals("Const")) {
        if (node.getName().equals(name)) {
          return Optional.of(op.equals("Const")
              ? new Origin.Constant(CallContext.root(graph.topLevel()), node)
              : new Origin.Variable(name, name, op));
        }
      } else if (op.equals("VarHandleOp") && (sharedName(node).equals(name)
          || name.equals(objectPaths.get(node.getName())))) {
        // a serving function in training mode does not capture the moving statistics: the
        // object graph still says which tf.Module attribute holds them
        return Optional.of(new Origin.Variable(name, node.getName(), op));
      }
    }
    return Optional.empty();
  }

  private static String sharedName(NodeDef node) {
    var shared = node.getAttrMap().get("shared_name");
    String value = shared == null ? "" : shared.getS().toStringUtf8();
    return value.isEmpty() ? node.getName() : value;
  }

  private static String withoutCopySuffix(String name) {
    return name.matches(".*_\\d+") ? name.substring(0, name.lastIndexOf('_')) : name;
  }

  /**
   * A training-mode node in an untaken branch that normalizes the same tensor as the layer (both
   * reached through a Switch of one tf.cond) but reads other variables: the reuse mistake.
   */
  // contexts compared as the walk's objects, as FunctionInliner keys them, without comparing their
  // call nodes field by field up the chain of callers
  @SuppressWarnings("ReferenceEquality")
  private Optional<BnNode> unsharedTrainingTwin(Candidate c, List<BnNode> deadNodes) {
    BnNode serving = c.copies().get(0);
    String source = beforeSwitch(serving);
    for (BnNode dead : deadNodes) {
      if (dead.training() && dead.context() == serving.context() && source.equals(beforeSwitch(dead))
          && !identity(dead).equals(identity(serving))) {
        return Optional.of(dead);
      }
    }
    return Optional.empty();
  }

  /** The tensor a node normalizes, seen through the Switch that routes it into a cond branch. */
  private String beforeSwitch(BnNode node) {
    GraphScope scope = node.context().scope();
    String input = node.input();
    NodeDef producer = scope.node(GraphScope.Ref.parse(input).node());
    if (producer != null && (producer.getOp().equals("Switch") || producer.getOp().equals("RefSwitch"))) {
      return OriginTracer.dataInput(producer, 0).orElse(input);
    }
    return input;
  }

  private GraphFacts.UnsharedTraining unshared(Candidate c, BnNode twin, Map<String, double[]> values) {
    return new GraphFacts.UnsharedTraining(twin.describe(), variableNames(c.copies().get(0)), variableNames(twin),
        readOrEmpty(twin.mean(), values), readOrEmpty(twin.variance(), values));
  }

  private static List<String> variableNames(BnNode node) {
    List<String> names = new ArrayList<>();
    for (Origin o : Arrays.asList(node.gamma(), node.beta(), node.mean(), node.variance())) {
      if (o instanceof Origin.Variable v) {
        names.add(v.name());
      }
    }
    return names;
  }

  private double[] readOrEmpty(Origin origin, Map<String, double[]> values) {
    try {
      return value(origin, values, "statistics");
    } catch (Unresolvable e) {
      return new double[0];
    }
  }

  /** Nodes reading the same parameters are copies of one layer. */
  private static String identity(BnNode node) {
    if (isParameter(node.gamma()) || isParameter(node.beta())) {
      return describe(node.gamma()) + "|" + describe(node.beta());
    }
    if (isParameter(node.mean())) {
      return describe(node.mean()) + "|" + describe(node.variance());
    }
    return node.describe();
  }

  private static String describe(Origin o) {
    return o == null ? "-" : o.describe();
  }

  /**
   * Constants whose names say where freezing or lowering put them, not which variable they stand
   * for: a frozen variable read, and what lowering a tf.while_loop passes into its frame.
   */
  private static final java.util.regex.Pattern GENERATED_CONSTANT =
      java.util.regex.Pattern.compile("(^|/)(ReadVariableOp(/resource)?|input_\\d+)$");

  /** What lowering a tf.while_loop puts before the names of the loop body's nodes. */
  private static final java.util.regex.Pattern LOWERED_BODY = java.util.regex.Pattern.compile("^(.*/)?body/_\\d+/");

  /**
   * The scope of the layer's variables ({@code bn/gamma} → {@code bn}; a variable named without
   * a scope by its path in the object graph, {@code bn1/gamma} for a {@code tf.Module}'s
   * {@code bn1.gamma}), else of its node. A constant that stands for a variable read ({@code convert_variables_to_constants_v2} names it
   * after the variable read it replaced, as in {@code cnn_1/bn1_1/Cast/ReadVariableOp/resource})
   * does not name the variable, so the node's scope is the better name; nor does an empty constant
   * (a training-mode node's unused statistics) or what lowering passes into a loop.
   */
  private String layerName(BnNode node) {
    for (Origin o : Arrays.asList(node.mean(), node.gamma(), node.beta(), node.variance())) {
      String full = o instanceof Origin.Variable v ? (v.name().contains("/") ? v.name()
              : objectPaths.getOrDefault(v.node(), v.name()))
          : o instanceof Origin.Constant c && !GENERATED_CONSTANT.matcher(c.node().getName()).find() && holdsValues(o)
              ? c.node().getName()
          : null;
      if (full != null && full.contains("/")) {
        return full.substring(0, full.lastIndexOf('/'));
      }
    }
    String n = LOWERED_BODY.matcher(node.node()).replaceFirst("");
    int cut = n.lastIndexOf('/');
    String scope = cut < 0 ? n : n.substring(0, cut);
    return scope.endsWith("/batchnorm") ? scope.substring(0, scope.length() - "/batchnorm".length()) : scope;
  }

  private double[] value(Origin origin, Map<String, double[]> variables, String what) {
    if (origin instanceof Origin.Constant c) {
      double[] v = constants.values(c.node());
      if (v.length == 0) {
        throw new Unresolvable(what + " is " + c.describe() + ", which holds no values");
      }
      return v;
    }
    if (origin instanceof Origin.Variable v) {
      double[] read = variables.get(v.node());
      if (read == null) {
        throw new Unresolvable(what + " " + v.describe() + " could not be read");
      }
      return read;
    }
    throw new Unresolvable(what + " is " + origin.describe());
  }

  private static boolean isParameter(Origin o) {
    return o instanceof Origin.Variable || o instanceof Origin.Constant;
  }

  /** A variable, or a constant that is not empty (training-mode nodes are fed empty statistics). */
  private boolean holdsValues(Origin o) {
    return o instanceof Origin.Variable
        || (o instanceof Origin.Constant c && constants.values(c.node()).length > 0);
  }

  private static double[] filled(int n, double v) {
    double[] a = new double[n];
    Arrays.fill(a, v);
    return a;
  }

  private static String unique(String name, Set<String> taken) {
    String candidate = name;
    for (int i = 2; !taken.add(candidate); i++) {
      candidate = name + "#" + i;
    }
    return candidate;
  }

  /** A parameter that cannot be read; the layer is reported as unresolved with this reason. */
  private static final class Unresolvable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unresolvable(String message) {
      super(message);
    }
  }
}
