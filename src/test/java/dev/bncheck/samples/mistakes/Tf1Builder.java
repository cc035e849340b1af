package dev.bncheck.samples.mistakes;

import java.util.List;
import java.util.function.Consumer;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.GraphOperationBuilder;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Scope;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Adds nodes under exact TF1-style names ({@code bn1/moving_mean/read}, {@code bn1/AssignMovingAvg}).
 * A trimmed copy of the package-private test builder in {@code dev.bncheck.load.tensorflow}.
 */
final class Tf1Builder {

  /** A TF1 ref variable ({@code VariableV2}) with its initializer, assign and read nodes. */
  record RefVariable(GraphOperation variable, Output<?> initialValue, GraphOperation assign, Output<?> read) {
    String name() {
      return variable.name();
    }

    Output<?> ref() {
      return variable.output(0);
    }
  }

  private final Graph graph;
  private final Scope scope;

  Tf1Builder(Graph graph) {
    this.graph = graph;
    this.scope = graph.baseScope();
  }

  Graph graph() {
    return graph;
  }

  GraphOperation op(String type, String name, List<Output<?>> inputs, Consumer<GraphOperationBuilder> attrs) {
    GraphOperationBuilder b = graph.opBuilder(type, name, scope);
    for (Output<?> in : inputs) {
      b.addInput(in);
    }
    attrs.accept(b);
    return b.build();
  }

  Output<?> placeholder(String name, DataType dtype, Shape shape) {
    return op("Placeholder", name, List.of(), b -> b.setAttr("dtype", dtype).setAttr("shape", shape)).output(0);
  }

  /** {@code PlaceholderWithDefault(False)}, the TF1 {@code is_training} flag. */
  Output<?> isTrainingFlag(String name) {
    Output<?> def = op("Const", name + "/input", List.of(), a -> {
      try (TBool t = TBool.scalarOf(false)) {
        a.setAttr("dtype", DataType.DT_BOOL).setAttr("value", t);
      }
    }).output(0);
    return op("PlaceholderWithDefault", name, List.of(def),
        a -> a.setAttr("dtype", DataType.DT_BOOL).setAttr("shape", Shape.scalar())).output(0);
  }

  Output<?> constFloat(String name, float[] values, long... shape) {
    try (TFloat32 t = TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(values, true, false))) {
      return op("Const", name, List.of(), b -> b.setAttr("dtype", DataType.DT_FLOAT).setAttr("value", t)).output(0);
    }
  }

  Output<?> constFloat(String name, float value) {
    try (TFloat32 t = TFloat32.scalarOf(value)) {
      return op("Const", name, List.of(), b -> b.setAttr("dtype", DataType.DT_FLOAT).setAttr("value", t)).output(0);
    }
  }

  Output<?> constInt(String name, int... values) {
    try (TInt32 t = TInt32.vectorOf(values)) {
      return op("Const", name, List.of(), b -> b.setAttr("dtype", DataType.DT_INT32).setAttr("value", t)).output(0);
    }
  }

  Output<?> identity(String name, Output<?> x) {
    DataType t = x.dataType();
    DataType base = t.getNumber() > 100 ? DataType.forNumber(t.getNumber() - 100) : t;
    return op("Identity", name, List.of(x), b -> b.setAttr("T", base)).output(0);
  }

  Output<?> binary(String type, String name, Output<?> x, Output<?> y) {
    return op(type, name, List.of(x, y), b -> b.setAttr("T", DataType.DT_FLOAT)).output(0);
  }

  Output<?> unary(String type, String name, Output<?> x) {
    return op(type, name, List.of(x), b -> b.setAttr("T", DataType.DT_FLOAT)).output(0);
  }

  Output<?> matMul(String name, Output<?> a, Output<?> b) {
    return op("MatMul", name, List.of(a, b), x -> x.setAttr("T", DataType.DT_FLOAT)
        .setAttr("transpose_a", false).setAttr("transpose_b", false)).output(0);
  }

  Output<?> biasAdd(String name, Output<?> x, Output<?> bias) {
    return op("BiasAdd", name, List.of(x, bias), b -> b.setAttr("T", DataType.DT_FLOAT)
        .setAttr("data_format", "NHWC")).output(0);
  }

  Output<?> reshape(String name, Output<?> x, int... shape) {
    Output<?> s = constInt(name + "/shape", shape);
    return op("Reshape", name, List.of(x, s), b -> b.setAttr("T", DataType.DT_FLOAT)
        .setAttr("Tshape", DataType.DT_INT32)).output(0);
  }

  Output<?> conv2dSame(String name, Output<?> input, Output<?> kernel) {
    return op("Conv2D", name, List.of(input, kernel), b -> b
        .setAttr("T", DataType.DT_FLOAT)
        .setAttr("strides", new long[] {1, 1, 1, 1})
        .setAttr("padding", "SAME")
        .setAttr("data_format", "NHWC")
        .setAttr("dilations", new long[] {1, 1, 1, 1})
        .setAttr("use_cudnn_on_gpu", true)
        .setAttr("explicit_paddings", new long[0])).output(0);
  }

  GraphOperation fusedBatchNormV3(String name, Output<?> x, Output<?> scale, Output<?> offset, Output<?> mean,
      Output<?> variance, float epsilon, boolean training) {
    return op("FusedBatchNormV3", name, List.of(x, scale, offset, mean, variance), b -> b
        .setAttr("T", DataType.DT_FLOAT)
        .setAttr("U", DataType.DT_FLOAT)
        .setAttr("epsilon", epsilon)
        .setAttr("exponential_avg_factor", 1f)
        .setAttr("data_format", "NHWC")
        .setAttr("is_training", training));
  }

  Output<?> mean(String name, Output<?> x, Output<?> axes, boolean keepDims) {
    return op("Mean", name, List.of(x, axes), b -> b
        .setAttr("T", DataType.DT_FLOAT)
        .setAttr("Tidx", DataType.DT_INT32)
        .setAttr("keep_dims", keepDims)).output(0);
  }

  Output<?> squeeze(String name, Output<?> x, long... axes) {
    return op("Squeeze", name, List.of(x), b -> b
        .setAttr("T", DataType.DT_FLOAT)
        .setAttr("squeeze_dims", axes)).output(0);
  }

  GraphOperation noOp(String name, List<GraphOperation> controlInputs) {
    GraphOperationBuilder b = graph.opBuilder("NoOp", name, scope);
    for (GraphOperation c : controlInputs) {
      b.addControlInput(c);
    }
    return b.build();
  }

  /** {@code name} (VariableV2), {@code name/<initializer>}, {@code name/Assign}, {@code name/read}. */
  RefVariable refVariable(String name, String initializer, float[] init, long... shape) {
    Output<?> initial = constFloat(name + "/" + initializer, init, shape);
    GraphOperation variable = op("VariableV2", name, List.of(), b -> b
        .setAttr("dtype", DataType.DT_FLOAT)
        .setAttr("shape", Shape.of(shape))
        .setAttr("container", "")
        .setAttr("shared_name", ""));
    GraphOperation assign = op("Assign", name + "/Assign", List.of(variable.output(0), initial), b -> b
        .setAttr("T", DataType.DT_FLOAT)
        .setAttr("validate_shape", true)
        .setAttr("use_locking", true));
    Output<?> read = identity(name + "/read", variable.output(0));
    return new RefVariable(variable, initial, assign, read);
  }
}
