package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Refuses a constant whose bytes do not fill its shape: a truncated or corrupt model. TensorFlow
 * finds out only when the constant runs, and its error then reads as if the data could not be
 * fed; checked in Java before anything runs, the message names the node.
 */
final class ConstantSizes {

  private static final Map<DataType, Integer> BYTES = Map.ofEntries(
      Map.entry(DataType.DT_FLOAT, 4), Map.entry(DataType.DT_DOUBLE, 8), Map.entry(DataType.DT_INT32, 4),
      Map.entry(DataType.DT_INT64, 8), Map.entry(DataType.DT_UINT8, 1), Map.entry(DataType.DT_INT8, 1),
      Map.entry(DataType.DT_INT16, 2), Map.entry(DataType.DT_UINT16, 2), Map.entry(DataType.DT_UINT32, 4),
      Map.entry(DataType.DT_UINT64, 8), Map.entry(DataType.DT_HALF, 2), Map.entry(DataType.DT_BFLOAT16, 2),
      Map.entry(DataType.DT_BOOL, 1), Map.entry(DataType.DT_COMPLEX64, 8), Map.entry(DataType.DT_COMPLEX128, 16));

  private ConstantSizes() {}

  /** Checks every constant of the graph and of its functions. */
  static void check(TfGraph graph, String location) {
    List<GraphScope> scopes = new ArrayList<>(List.of(graph.topLevel()));
    scopes.addAll(graph.functions());
    for (GraphScope scope : scopes) {
      for (NodeDef node : scope.nodes()) {
        AttrValue value = node.getAttrMap().get("value");
        if (node.getOp().equals("Const") && value != null && value.hasTensor()) {
          check(value.getTensor(), node.getName() + (scope.isFunction() ? " in " + scope.name() : ""), location);
        }
      }
    }
  }

  private static void check(TensorProto tensor, String node, String location) {
    Integer size = BYTES.get(tensor.getDtype());
    if (size == null || tensor.getTensorContent().isEmpty()) {
      return;
    }
    long elements = 1;
    long expected;
    try {
      for (TensorShapeProto.Dim dim : tensor.getTensorShape().getDimList()) {
        if (dim.getSize() < 0) {
          return;
        }
        elements = Math.multiplyExact(elements, dim.getSize());
      }
      expected = Math.multiplyExact(elements, (long) size);
    } catch (ArithmeticException e) {
      expected = Long.MAX_VALUE;
    }
    long actual = tensor.getTensorContent().size();
    if (actual != expected) {
      throw new InvalidInputException(location, "node " + ModelSafety.shortened(node), "constant of " + elements + " "
          + tensor.getDtype() + " values holds " + actual + " bytes where " + expected
          + " are needed: the model is truncated or corrupt");
    }
  }
}
