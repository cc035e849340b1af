package dev.bncheck.load.tensorflow;

import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/**
 * Reads variables in a loaded SavedModel's session, where its checkpoint was restored.
 *
 * <p>TensorFlow rebuilds its whole view of the graph (ResNet-50's: 0.3-0.4 s) at the first run
 * after nodes were added. The read ops can therefore be added first, through {@link #declared},
 * so that they share one rebuild with the statistics ops that go in before {@link #read} runs.
 */
final class SessionVariableReader implements VariableReader {

  /** BN parameters hold one value per channel; a declared shape of more values is not taken on trust. */
  static final long MOST_DECLARED_VALUES = 1 << 20;

  private final CheckedSession session;
  private final String location;
  /** The ops that read each variable node, in the order they were added. */
  private final Map<String, Operand<?>> reads = new LinkedHashMap<>();
  /** The lengths {@link #declared} gave, which the values read must have. */
  private final Map<String, Shape> declaredShapes = new HashMap<>();
  /** Created once: every new sub-scope reads the name of every node in the graph. */
  private Ops scope;

  SessionVariableReader(CheckedSession session, String location) {
    this.session = session;
    this.location = location;
  }

  /**
   * The layers with zeros for their variables' values, in the shapes the graph declares, and
   * the read ops added: the values' lengths decide which layers resolve, so the statistics ops
   * can be prepared for those before anything runs. Empty when some variable's shape is not
   * fully declared: only the values read then tell.
   */
  Optional<LayerAssembler.Layers> declaredLayers(GraphBnLayers found) {
    boolean[] known = {true};
    LayerAssembler.Layers layers = found.assemble(variables -> declared(variables).orElseGet(() -> {
      known[0] = false;
      return Map.of();
    }));
    return known[0] ? Optional.of(layers) : Optional.empty();
  }

  /**
   * Zeros of each variable's declared shape, by node, its read op added; empty when a shape is
   * not fully declared, or declares more values than {@link #MOST_DECLARED_VALUES}: a graph that
   * declares more than it holds would have bncheck allocate what it declares.
   */
  Optional<Map<String, double[]>> declared(Collection<Origin.Variable> variables) {
    Map<String, Shape> shapes = new HashMap<>();
    boolean known = true;
    for (Origin.Variable v : variables) {
      Operand<?> read = readOp(v);
      if (read == null) {
        continue;
      }
      Shape shape = read.asOutput().shape();
      if (shape.isUnknown() || shape.hasUnknownDimension() || shape.size() > MOST_DECLARED_VALUES) {
        known = false;
      } else {
        shapes.put(v.node(), shape);
      }
    }
    if (!known) {
      return Optional.empty();
    }
    // the values read must have these lengths only where the layers were resolved on them
    declaredShapes.putAll(shapes);
    Map<String, double[]> zeros = new HashMap<>();
    shapes.forEach((node, shape) -> zeros.put(node, new double[(int) shape.size()]));
    return Optional.of(zeros);
  }

  @Override
  public Map<String, double[]> read(Collection<Origin.Variable> variables) {
    for (Origin.Variable v : variables) {
      readOp(v);
    }
    Map<String, double[]> values = new HashMap<>();
    if (reads.isEmpty()) {
      return values;
    }
    CheckedSession.Runner runner = session.runner("reading the BN variables");
    reads.values().forEach(runner::fetch);
    try (Result result = runner.run()) {
      int i = 0;
      for (String name : reads.keySet()) {
        double[] value = TensorConversions.doubles(result.get(i++));
        Shape shape = declaredShapes.get(name);
        if (shape != null && value.length != shape.size()) {
          // the layers were resolved on the declared shapes, and their statistics prepared
          throw new NotAsDeclared(name, value.length, shape);
        }
        values.put(name, value);
      }
    } catch (org.tensorflow.exceptions.TensorFlowException e) {
      // A variable the checkpoint did not restore: missing or mismatched variables/.
      throw new dev.bncheck.load.InvalidInputException(location, "variables",
          "cannot read the BN variables: " + TensorFlowRuntime.firstLine(e.getMessage()), e);
    }
    return values;
  }

  /** A value read whose length is not that of the shape its variable declares. */
  static final class NotAsDeclared extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotAsDeclared(String variable, int length, Shape declared) {
      super("variable " + variable + " holds " + length + " value(s), where its graph declares the shape " + declared);
    }
  }

  /**
   * The op that reads a float32 or float64 variable node, added on first use; null for a node the
   * graph lacks or a variable of another type, which stay unread.
   */
  private Operand<?> readOp(Origin.Variable v) {
    if (reads.containsKey(v.node())) {
      return reads.get(v.node());
    }
    Graph graph = session.graph();
    GraphOperation node = graph.operation(v.node());
    if (node == null) {
      return null;
    }
    Operand<?> read;
    if (v.op().equals("VarHandleOp")) {
      DataType dtype = DataType.forNumber(node.attributes().getAttrType("dtype").getNumber());
      if (dtype != DataType.DT_FLOAT && dtype != DataType.DT_DOUBLE) {
        return null;
      }
      if (scope == null) {
        scope = Ops.create(graph).withSubScope("bncheck");
      }
      read = dtype == DataType.DT_FLOAT
          ? scope.readVariableOp(node.output(0), TFloat32.class)
          : scope.readVariableOp(node.output(0), TFloat64.class);
    } else {
      read = node.output(0);
    }
    reads.put(v.node(), read);
    return read;
  }
}
