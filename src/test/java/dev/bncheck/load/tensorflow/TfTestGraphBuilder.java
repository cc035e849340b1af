package dev.bncheck.load.tensorflow;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.GraphOperationBuilder;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.Scope;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TString;

/**
 * Adds nodes to a graph under exact, TF1-style names such as {@code bn/gamma/read}. The
 * {@link Ops} API makes every name unique within its scope and rejects {@code /} in names, so it
 * cannot reproduce the names {@code tf.layers} writes; {@link Graph#opBuilder} takes the name as
 * given. Nodes built here are not known to the graph's own name scope: do not mix them with
 * {@link Ops}-built nodes of the same names.
 */
public final class TfTestGraphBuilder {

  /** A TF1 ref variable ({@code VariableV2}) with its initializer, assign and read nodes. */
  public record RefVariable(GraphOperation variable, Output<?> initialValue, GraphOperation assign, Output<?> read) {
    public String name() {
      return variable.name();
    }

    /** The variable's reference output, for ops that write through it. */
    public Output<?> ref() {
      return variable.output(0);
    }
  }

  /** A resource variable ({@code VarHandleOp}) with its initializer and assign nodes. */
  public record ResourceVariable(GraphOperation handle, Output<?> initialValue, GraphOperation assign) {
    public String name() {
      return handle.name();
    }
  }

  private final Graph graph;
  private final Scope scope;

  public TfTestGraphBuilder(Graph graph) {
    this.graph = graph;
    this.scope = graph.baseScope();
  }

  /** For the body of a {@code ConcreteFunction.create(tf -> ...)}: adds to the function's graph. */
  public TfTestGraphBuilder(Ops tf) {
    this.graph = (Graph) tf.scope().env();
    this.scope = tf.scope();
  }

  public Graph graph() {
    return graph;
  }

  public GraphOperation op(String type, String name, List<Output<?>> inputs, Consumer<GraphOperationBuilder> attrs) {
    GraphOperationBuilder b = graph.opBuilder(type, name, scope);
    for (Output<?> in : inputs) {
      b.addInput(in);
    }
    attrs.accept(b);
    return b.build();
  }

  public GraphOperation op(String type, String name, List<Output<?>> inputs) {
    return op(type, name, inputs, b -> { });
  }

  public Output<?> placeholder(String name, DataType dtype, Shape shape) {
    return op("Placeholder", name, List.of(), b -> {
      b.setAttr("dtype", dtype);
      if (shape != null) {
        b.setAttr("shape", shape);
      }
    }).output(0);
  }

  public Output<?> constFloat(String name, float[] values, long... shape) {
    try (TFloat32 t = TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(values, true, false))) {
      return op("Const", name, List.of(), b -> b.setAttr("dtype", DataType.DT_FLOAT).setAttr("value", t)).output(0);
    }
  }

  public Output<?> constFloat(String name, float value) {
    try (TFloat32 t = TFloat32.scalarOf(value)) {
      return op("Const", name, List.of(), b -> b.setAttr("dtype", DataType.DT_FLOAT).setAttr("value", t)).output(0);
    }
  }

  public Output<?> constInt(String name, int... values) {
    try (TInt32 t = TInt32.vectorOf(values)) {
      return op("Const", name, List.of(), b -> b.setAttr("dtype", DataType.DT_INT32).setAttr("value", t)).output(0);
    }
  }

  public Output<?> constStrings(String name, String... values) {
    try (TString t = TString.vectorOf(values)) {
      return op("Const", name, List.of(), b -> b.setAttr("dtype", DataType.DT_STRING).setAttr("value", t)).output(0);
    }
  }

  public Output<?> identity(String name, Output<?> x) {
    DataType t = x.dataType();
    DataType base = t.getNumber() > 100 ? DataType.forNumber(t.getNumber() - 100) : t; // DT_FLOAT_REF -> DT_FLOAT
    return op("Identity", name, List.of(x), b -> b.setAttr("T", base)).output(0);
  }

  /** Add, AddV2, Sub, Mul, SquaredDifference, ... on float tensors. */
  public Output<?> binary(String type, String name, Output<?> x, Output<?> y) {
    return op(type, name, List.of(x, y), b -> b.setAttr("T", DataType.DT_FLOAT)).output(0);
  }

  /** Rsqrt, StopGradient, ... on a float tensor. */
  public Output<?> unary(String type, String name, Output<?> x) {
    return op(type, name, List.of(x), b -> b.setAttr("T", DataType.DT_FLOAT)).output(0);
  }

  public Output<?> conv2dSame(String name, Output<?> input, Output<?> kernel) {
    return op("Conv2D", name, List.of(input, kernel), b -> b
        .setAttr("T", DataType.DT_FLOAT)
        .setAttr("strides", new long[] {1, 1, 1, 1})
        .setAttr("padding", "SAME")
        .setAttr("data_format", "NHWC")
        .setAttr("dilations", new long[] {1, 1, 1, 1})
        .setAttr("use_cudnn_on_gpu", true)
        .setAttr("explicit_paddings", new long[0])).output(0);
  }

  public GraphOperation fusedBatchNormV3(String name, Output<?> x, Output<?> scale, Output<?> offset, Output<?> mean,
      Output<?> variance, float epsilon, boolean training, float exponentialAvgFactor) {
    return op("FusedBatchNormV3", name, List.of(x, scale, offset, mean, variance), b -> b
        .setAttr("T", DataType.DT_FLOAT)
        .setAttr("U", DataType.DT_FLOAT)
        .setAttr("epsilon", epsilon)
        .setAttr("exponential_avg_factor", exponentialAvgFactor)
        .setAttr("data_format", "NHWC")
        .setAttr("is_training", training));
  }

  public Output<?> mean(String name, Output<?> x, Output<?> axes, boolean keepDims) {
    return op("Mean", name, List.of(x, axes), b -> b
        .setAttr("T", DataType.DT_FLOAT)
        .setAttr("Tidx", DataType.DT_INT32)
        .setAttr("keep_dims", keepDims)).output(0);
  }

  public Output<?> squeeze(String name, Output<?> x, long... axes) {
    return op("Squeeze", name, List.of(x), b -> b
        .setAttr("T", DataType.DT_FLOAT)
        .setAttr("squeeze_dims", axes)).output(0);
  }

  public GraphOperation noOp(String name, List<GraphOperation> controlInputs) {
    GraphOperationBuilder b = graph.opBuilder("NoOp", name, scope);
    for (GraphOperation c : controlInputs) {
      b.addControlInput(c);
    }
    return b.build();
  }

  /**
   * {@code name} (VariableV2), {@code name/<initializer>} (Const), {@code name/Assign} and
   * {@code name/read} (Identity), as {@code tf.get_variable} writes them.
   */
  public RefVariable refVariable(String name, String initializer, float[] init) {
    return refVariable(name, initializer, init, (long) init.length);
  }

  /** A ref variable of any shape (the conv kernel). */
  public RefVariable refVariable(String name, String initializer, float[] init, long... shape) {
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

  /**
   * {@code name} (VarHandleOp, shared_name = name), {@code name/<initializer>} (Const) and
   * {@code name/Assign} (AssignVariableOp), as TF2 writes resource variables.
   */
  public ResourceVariable resourceVariable(String name, String initializer, float[] init, long... shape) {
    Output<?> initial = constFloat(name + "/" + initializer, init, shape);
    GraphOperation handle = op("VarHandleOp", name, List.of(), b -> b
        .setAttr("dtype", DataType.DT_FLOAT)
        .setAttr("shape", Shape.of(shape))
        .setAttr("container", "")
        .setAttr("shared_name", name)
        .setAttr("allowed_devices", new String[0]));
    GraphOperation assign = op("AssignVariableOp", name + "/Assign", List.of(handle.output(0), initial), b -> b
        .setAttr("dtype", DataType.DT_FLOAT));
    return new ResourceVariable(handle, initial, assign);
  }

  public Output<?> readVariable(String name, Output<?> handle) {
    return op("ReadVariableOp", name, List.of(handle), b -> b.setAttr("dtype", DataType.DT_FLOAT)).output(0);
  }

  /**
   * A TF1 saver over resource variables, under the names {@code SavedModelBundle.exporter} and
   * {@code Graph.saverDef()} look for ({@code save/filename}, {@code save/control_dependency},
   * {@code save/restore_all}). Without it the exporter saves only VariableV2 variables and a
   * model with resource variables does not reload. Checkpoint keys are the variable names.
   */
  void resourceSaver(List<ResourceVariable> variables) {
    String[] names = variables.stream().map(ResourceVariable::name).toArray(String[]::new);
    String[] slices = new String[names.length];
    java.util.Arrays.fill(slices, "");
    DataType[] dtypes = new DataType[names.length];
    java.util.Arrays.fill(dtypes, DataType.DT_FLOAT);
    Output<?> filename;
    try (TString model = TString.scalarOf("model")) {
      Output<?> defaultName = op("Const", "save/Const", List.of(),
          b -> b.setAttr("dtype", DataType.DT_STRING).setAttr("value", model)).output(0);
      filename = op("PlaceholderWithDefault", "save/filename", List.of(defaultName),
          b -> b.setAttr("dtype", DataType.DT_STRING).setAttr("shape", Shape.scalar())).output(0);
    }
    Output<?> tensorNames = constStrings("save/SaveV2/tensor_names", names);
    Output<?> shapeAndSlices = constStrings("save/SaveV2/shape_and_slices", slices);
    List<Output<?>> reads = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      reads.add(readVariable("save/ReadVariableOp" + (i == 0 ? "" : "_" + i), variables.get(i).handle().output(0)));
    }
    GraphOperationBuilder save = graph.opBuilder("SaveV2", "save/SaveV2", scope)
        .addInput(filename).addInput(tensorNames).addInput(shapeAndSlices)
        .addInputList(reads.toArray(new Output<?>[0]))
        .setAttr("dtypes", dtypes);
    GraphOperation saveOp = save.build();
    graph.opBuilder("Identity", "save/control_dependency", scope)
        .addInput(filename).addControlInput(saveOp).setAttr("T", DataType.DT_STRING).build();
    Output<?> restoreNames = constStrings("save/RestoreV2/tensor_names", names);
    Output<?> restoreSlices = constStrings("save/RestoreV2/shape_and_slices", slices);
    GraphOperation restore = op("RestoreV2", "save/RestoreV2", List.of(filename, restoreNames, restoreSlices),
        b -> b.setAttr("dtypes", dtypes));
    List<GraphOperation> assigns = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      int k = i;
      assigns.add(op("AssignVariableOp", "save/AssignVariableOp" + (i == 0 ? "" : "_" + i),
          List.of(variables.get(i).handle().output(0), restore.output(k)), b -> b.setAttr("dtype", DataType.DT_FLOAT)));
    }
    noOp("save/restore_all", assigns);
  }

  /** {@code PlaceholderWithDefault(False)}, the TF1 {@code is_training} flag. */
  public Output<?> isTrainingFlag(String name) {
    Output<?> def = op("Const", name + "/input", List.of(), a -> {
      try (TBool t = TBool.scalarOf(false)) {
        a.setAttr("dtype", DataType.DT_BOOL).setAttr("value", t);
      }
    }).output(0);
    return op("PlaceholderWithDefault", name, List.of(def),
        a -> a.setAttr("dtype", DataType.DT_BOOL).setAttr("shape", Shape.scalar())).output(0);
  }

  public Output<?> matMul(String name, Output<?> a, Output<?> b) {
    return op("MatMul", name, List.of(a, b), x -> x.setAttr("T", DataType.DT_FLOAT)
        .setAttr("transpose_a", false).setAttr("transpose_b", false)).output(0);
  }

  public Output<?> biasAdd(String name, Output<?> x, Output<?> bias) {
    return op("BiasAdd", name, List.of(x, bias), b -> b.setAttr("T", DataType.DT_FLOAT)
        .setAttr("data_format", "NHWC")).output(0);
  }

  public Output<?> reshape(String name, Output<?> x, int... shape) {
    Output<?> s = constInt(name + "/shape", shape);
    return op("Reshape", name, List.of(x, s), b -> b.setAttr("T", DataType.DT_FLOAT)
        .setAttr("Tshape", DataType.DT_INT32)).output(0);
  }
}
