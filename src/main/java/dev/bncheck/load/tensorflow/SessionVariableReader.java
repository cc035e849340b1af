package dev.bncheck.load.tensorflow;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Tensor;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/** Reads variables in a loaded SavedModel's session, where its checkpoint was restored. */
final class SessionVariableReader implements VariableReader {

  private final CheckedSession session;
  private final String location;

  SessionVariableReader(CheckedSession session, String location) {
    this.session = session;
    this.location = location;
  }

  @Override
  public Map<String, double[]> read(Collection<Origin.Variable> variables) {
    Graph graph = session.graph();
    Ops tf = Ops.create(graph).withSubScope("bncheck");
    Map<String, Operand<?>> fetches = new LinkedHashMap<>();
    for (Origin.Variable v : variables) {
      if (fetches.containsKey(v.node())) {
        continue;
      }
      GraphOperation node = graph.operation(v.node());
      if (node == null) {
        continue;
      }
      if (v.op().equals("VarHandleOp")) {
        DataType dtype = DataType.forNumber(node.attributes().getAttrType("dtype").getNumber());
        if (dtype != DataType.DT_FLOAT && dtype != DataType.DT_DOUBLE) {
          continue;
        }
        Operand<?> read = dtype == DataType.DT_FLOAT
            ? tf.readVariableOp(node.output(0), TFloat32.class)
            : tf.readVariableOp(node.output(0), TFloat64.class);
        fetches.put(v.node(), read);
      } else {
        fetches.put(v.node(), node.output(0));
      }
    }
    Map<String, double[]> values = new HashMap<>();
    if (fetches.isEmpty()) {
      return values;
    }
    CheckedSession.Runner runner = session.runner("reading the BN variables");
    List<String> names = new ArrayList<>(fetches.keySet());
    for (String name : names) {
      runner.fetch(fetches.get(name));
    }
    try (Result result = runner.run()) {
      for (int i = 0; i < names.size(); i++) {
        values.put(names.get(i), TensorConversions.doubles(result.get(i)));
      }
    } catch (org.tensorflow.exceptions.TensorFlowException e) {
      // A variable the checkpoint did not restore: missing or mismatched variables/.
      throw new dev.bncheck.load.InvalidInputException(location, "variables",
          "cannot read the BN variables: " + TensorFlowRuntime.firstLine(e.getMessage()), e);
    }
    return values;
  }
}
