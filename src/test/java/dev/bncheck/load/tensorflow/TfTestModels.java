package dev.bncheck.load.tensorflow;

import dev.bncheck.load.tensorflow.TfTestGraphBuilder.RefVariable;
import dev.bncheck.load.tensorflow.TfTestGraphBuilder.ResourceVariable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.PartitionedCall;
import org.tensorflow.op.core.StatefulPartitionedCall;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TType;

/**
 * Small TensorFlow models with one batch-normalization layer, written with TensorFlow Java for
 * the loader's tests. Every model computes {@code input [-1,6,6,3] -> Conv2D (3x3, SAME, no bias,
 * 4 channels) -> BN -> output} with fixed parameters, so what a loader reads can be checked
 * exactly. {@link TfTestModelsTest} proves each model computes what its {@link Model} says.
 *
 * <p>Node names follow {@code tf.layers.conv2d} / {@code tf.layers.batch_normalization} (TF1) and
 * Keras (functions): variables {@code conv2d/kernel}, {@code bn/gamma}, {@code bn/beta},
 * {@code bn/moving_mean}, {@code bn/moving_variance}; the signature input and output are the
 * nodes {@code input} and {@code output} under the keys {@code input} and {@code output}.
 */
public final class TfTestModels {

  public static final String SIGNATURE_KEY = "serving_default";
  public static final String TAG = "serve";
  public static final String INPUT = "input";
  public static final String OUTPUT = "output";
  public static final String FROZEN_GRAPH_FILE = "frozen_graph.pb";
  /** The layer name a loader should report: the variable scope of the BN parameters. */
  public static final String BN_LAYER = "bn";

  public static final int HEIGHT = 6;
  public static final int WIDTH = 6;
  public static final int IN_CHANNELS = 3;
  public static final int KERNEL_SIZE = 3;
  /** Channels of the conv output, i.e. of the BN layer. */
  public static final int CHANNELS = 4;
  public static final float EPSILON = 0.001f;
  /** exponential_avg_factor of the is_training=true fused nodes (Keras 2 momentum 0.99). */
  public static final float TRAINING_AVG_FACTOR = 0.01f;
  /** decay of the AssignMovingAvg updates in the moments (decomposed training) model. */
  public static final float MOVING_AVG_DECAY = 0.01f;

  private static final float[] GAMMA = {1.25f, 0.8f, 1.5f, 0.6f};
  private static final float[] BETA = {0.1f, -0.2f, 0.3f, 0.05f};
  private static final float[] MOVING_MEAN = {0.5f, -0.3f, 0.2f, 1.1f};
  private static final float[] MOVING_VARIANCE = {2.0f, 0.5f, 1.5f, 0.8f};
  private static final long KERNEL_SEED = 20261127L;

  /** The values a model holds for its BN layer. Arrays are copies; do not expect equals() on them. */
  public record BnParams(float[] gamma, float[] beta, float[] movingMean, float[] movingVariance, float epsilon) {}

  public enum Format { SAVED_MODEL, FROZEN_GRAPH }

  public enum FusedVariant {
    /** is_training=false, moving statistics = the fixed trained values. */
    TRAINED,
    /** is_training=false, gamma/beta trained but moving statistics still 0 and 1. */
    NEVER_UPDATED,
    /** The serving BN has is_training=true (normalizes with the batch's statistics). */
    IS_TRAINING
  }

  public enum DecomposedVariant {
    /** Inference pattern over the moving statistics (trained values). */
    TRAINED,
    /** Inference pattern, moving statistics still 0 and 1. */
    NEVER_UPDATED,
    /** Training pattern: mean and variance from tf.nn.moments of the BN input. */
    MOMENTS
  }

  public enum FunctionVariant {
    /** Top level {@code PartitionedCall} -> function "model" (Conv2D + FusedBatchNormV3). */
    FLAT,
    /** The same through a {@code StatefulPartitionedCall}, as TF2 SavedModels call functions. */
    STATEFUL,
    /**
     * Top level {@code StatefulPartitionedCall} -> function "model" (Conv2D, then a
     * {@code PartitionedCall}) -> function "bn_layer" (FusedBatchNormV3).
     */
    NESTED
  }

  public enum FrozenVariant { FUSED, DECOMPOSED }

  /**
   * What a builder wrote.
   *
   * @param path the SavedModel directory, or the {@code .pb} file of a frozen graph
   * @param signatureKey {@link #SIGNATURE_KEY}; null for a frozen graph
   * @param tag {@link #TAG}; null for a frozen graph
   * @param inputName signature input key and input node name ({@code input}, tensor {@code input:0})
   * @param inputShape {@code [-1, 6, 6, 3]} (NHWC float32)
   * @param outputName signature output key and output node name ({@code output})
   * @param bnLayers the BN layers a loader should report (variable scopes), e.g. {@code [bn]}
   * @param servingBnNodes the BN nodes the signature output depends on: the FusedBatchNormV3
   *     node, or the Rsqrt of a decomposed pattern (inside a function for the function models)
   * @param otherBnNodes BN nodes present but not reached from the signature
   * @param servingTraining whether the serving BN normalizes with the batch's own statistics
   * @param params the parameter values stored in the checkpoint (or constants)
   * @param graphNodes nodes of the top-level graph a loader should find, name to op type (not
   *     every node)
   * @param functionNodes for function models, outermost function first: its name in the library
   *     (TensorFlow Java appends a random suffix) to the nodes in it, name to op type; else empty
   */
  public record Model(
      Path path,
      Format format,
      String signatureKey,
      String tag,
      String inputName,
      long[] inputShape,
      String outputName,
      List<String> bnLayers,
      List<String> servingBnNodes,
      List<String> otherBnNodes,
      boolean servingTraining,
      BnParams params,
      Map<String, String> graphNodes,
      Map<String, Map<String, String>> functionNodes) {

    /** Shorthand for {@code inputName + ":0"}. */
    public String inputTensor() {
      return inputName + ":0";
    }

    public String outputTensor() {
      return outputName + ":0";
    }
  }

  private TfTestModels() {}

  // ---- fixed values ----

  public static BnParams trainedParams() {
    return new BnParams(GAMMA.clone(), BETA.clone(), MOVING_MEAN.clone(), MOVING_VARIANCE.clone(), EPSILON);
  }

  /** gamma and beta trained, moving statistics at their initial 0 and 1. */
  public static BnParams neverUpdatedParams() {
    return new BnParams(GAMMA.clone(), BETA.clone(), filled(0f), filled(1f), EPSILON);
  }

  /** The conv kernel, HWIO [3, 3, 3, 4] flattened row-major, from a fixed seed. */
  public static float[] convKernel() {
    Random r = new Random(KERNEL_SEED);
    float[] k = new float[KERNEL_SIZE * KERNEL_SIZE * IN_CHANNELS * CHANNELS];
    for (int i = 0; i < k.length; i++) {
      k[i] = (float) (r.nextGaussian() * 0.5);
    }
    return k;
  }

  /** A reproducible NHWC input batch [n, 6, 6, 3], flattened row-major. */
  public static float[] inputBatch(int n, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n * HEIGHT * WIDTH * IN_CHANNELS];
    for (int i = 0; i < x.length; i++) {
      int c = i % IN_CHANNELS;
      x[i] = (float) (r.nextGaussian() * (1.0 + 0.5 * c) + 0.3 * c);
    }
    return x;
  }

  public static long[] inputShape() {
    return new long[] {-1, HEIGHT, WIDTH, IN_CHANNELS};
  }

  // ---- 1. TF1 fused ----

  /**
   * TF1 SavedModel, VariableV2 variables, {@code bn/FusedBatchNormV3} reading the
   * {@code bn/<name>/read} Identity nodes. The variables' initializers are ones/zeros as in
   * tf.layers; the trained values are only in the checkpoint.
   */
  public static Model tf1FusedSavedModel(Path dir, FusedVariant variant) {
    BnParams params = variant == FusedVariant.NEVER_UPDATED ? neverUpdatedParams() : trainedParams();
    boolean training = variant == FusedVariant.IS_TRAINING;
    Map<String, String> nodes = new LinkedHashMap<>();
    try (Graph g = new Graph()) {
      TfTestGraphBuilder b = new TfTestGraphBuilder(g);
      Tf1Layer layer = tf1Layer(b, nodes);
      GraphOperation bn = b.fusedBatchNormV3("bn/FusedBatchNormV3", layer.conv(), layer.gamma().read(), layer.beta().read(),
          layer.mean().read(), layer.variance().read(), EPSILON, training, training ? TRAINING_AVG_FACTOR : 1f);
      nodes.put("bn/FusedBatchNormV3", "FusedBatchNormV3");
      Output<?> out = b.identity(OUTPUT, bn.output(0));
      nodes.put(OUTPUT, "Identity");
      exportTf1(b, layer, params, out, dir);
    }
    return savedModel(dir, List.of("bn/FusedBatchNormV3"), List.of(), training, params, nodes, Map.of());
  }

  // ---- 2. TF1 decomposed ----

  /**
   * TF1 SavedModel with the unfused pattern of {@code tf.layers.batch_normalization(fused=False)}:
   * {@code bn/batchnorm/add} (= moving_variance/read + {@code bn/batchnorm/add/y}), {@code Rsqrt},
   * {@code mul} (Rsqrt * gamma/read), {@code mul_1} (x * mul), {@code mul_2} (mean * mul),
   * {@code sub} (beta/read - mul_2), {@code add_1} (mul_1 + sub). MOMENTS takes mean and variance
   * from {@code bn/moments/Squeeze} and {@code bn/moments/Squeeze_1} and adds the moving-average
   * updates {@code bn/AssignMovingAvg} and {@code bn/AssignMovingAvg_1} (AssignSub), which the
   * signature does not run.
   */
  public static Model tf1DecomposedSavedModel(Path dir, DecomposedVariant variant) {
    BnParams params = variant == DecomposedVariant.NEVER_UPDATED ? neverUpdatedParams() : trainedParams();
    boolean training = variant == DecomposedVariant.MOMENTS;
    Map<String, String> nodes = new LinkedHashMap<>();
    try (Graph g = new Graph()) {
      TfTestGraphBuilder b = new TfTestGraphBuilder(g);
      Tf1Layer layer = tf1Layer(b, nodes);
      Output<?> mean = layer.mean().read();
      Output<?> variance = layer.variance().read();
      if (training) {
        Output<?>[] moments = moments(b, layer.conv(), nodes);
        mean = moments[0];
        variance = moments[1];
        movingAverageUpdate(b, "bn/AssignMovingAvg", layer.mean(), mean, nodes);
        movingAverageUpdate(b, "bn/AssignMovingAvg_1", layer.variance(), variance, nodes);
      }
      Output<?> y = decomposed(b, layer.conv(), layer.gamma().read(), layer.beta().read(), mean, variance, nodes);
      Output<?> out = b.identity(OUTPUT, y);
      nodes.put(OUTPUT, "Identity");
      exportTf1(b, layer, params, out, dir);
    }
    return savedModel(dir, List.of("bn/batchnorm/Rsqrt"), List.of(), training, params, nodes, Map.of());
  }

  // ---- 3. training path beside the serving path ----

  /**
   * One set of BN variables read by two FusedBatchNormV3 nodes on the same conv output: the
   * serving signature's {@code bn/FusedBatchNormV3} (is_training=false) and
   * {@code bn_train/FusedBatchNormV3} (is_training=true, exponential_avg_factor 0.01), which
   * feeds {@code loss/Mean} and the moving-average updates {@code bn_train/AssignMovingAvg}
   * and {@code bn_train/AssignMovingAvg_1} (Assign), tied together by the NoOp {@code train_op}.
   * The signature does not reach any of the training nodes.
   */
  public static Model tf1TrainingPathBesideServing(Path dir) {
    BnParams params = trainedParams();
    Map<String, String> nodes = new LinkedHashMap<>();
    try (Graph g = new Graph()) {
      TfTestGraphBuilder b = new TfTestGraphBuilder(g);
      Tf1Layer layer = tf1Layer(b, nodes);
      GraphOperation bn = b.fusedBatchNormV3("bn/FusedBatchNormV3", layer.conv(), layer.gamma().read(), layer.beta().read(),
          layer.mean().read(), layer.variance().read(), EPSILON, false, 1f);
      nodes.put("bn/FusedBatchNormV3", "FusedBatchNormV3");
      Output<?> out = b.identity(OUTPUT, bn.output(0));
      nodes.put(OUTPUT, "Identity");

      GraphOperation train = b.fusedBatchNormV3("bn_train/FusedBatchNormV3", layer.conv(), layer.gamma().read(),
          layer.beta().read(), layer.mean().read(), layer.variance().read(), EPSILON, true, TRAINING_AVG_FACTOR);
      nodes.put("bn_train/FusedBatchNormV3", "FusedBatchNormV3");
      GraphOperation updateMean = b.op("Assign", "bn_train/AssignMovingAvg",
          List.of(layer.mean().variable().output(0), train.output(1)), a -> a
              .setAttr("T", DataType.DT_FLOAT).setAttr("validate_shape", true).setAttr("use_locking", true));
      GraphOperation updateVariance = b.op("Assign", "bn_train/AssignMovingAvg_1",
          List.of(layer.variance().variable().output(0), train.output(2)), a -> a
              .setAttr("T", DataType.DT_FLOAT).setAttr("validate_shape", true).setAttr("use_locking", true));
      nodes.put("bn_train/AssignMovingAvg", "Assign");
      nodes.put("bn_train/AssignMovingAvg_1", "Assign");
      Output<?> square = b.unary("Square", "loss/Square", train.output(0));
      Output<?> axes = b.constInt("loss/Const", 0, 1, 2, 3);
      Output<?> loss = b.mean("loss/Mean", square, axes, false);
      nodes.put("loss/Mean", "Mean");
      b.noOp("train_op", List.of((GraphOperation) loss.op(), updateMean, updateVariance));
      nodes.put("train_op", "NoOp");
      exportTf1(b, layer, params, out, dir);
    }
    return savedModel(dir, List.of("bn/FusedBatchNormV3"), List.of("bn_train/FusedBatchNormV3"), false, params,
        nodes, Map.of());
  }

  // ---- 4. BN inside a function ----

  /**
   * A SavedModel whose signature output comes out of a function call, with the BN inside the
   * function. The variables are resource variables ({@code VarHandleOp} at top level,
   * shared_name = name, checkpoint key = name) passed to the function as DT_RESOURCE arguments
   * and read inside with ReadVariableOp, as in TF2; a TF1 saver over them
   * ({@code save/restore_all}) makes the SavedModel reloadable. The BN node
   * {@code bn/FusedBatchNormV3} (is_training=false) exists only in the function library.
   */
  public static Model functionSavedModel(Path dir, FunctionVariant variant) {
    BnParams params = trainedParams();
    Map<String, String> nodes = new LinkedHashMap<>();
    Map<String, Map<String, String>> functionNodes = new LinkedHashMap<>();
    ConcreteFunction inner = null;
    ConcreteFunction model = null;
    try (Graph g = new Graph()) {
      Map<String, String> innerNodes = new LinkedHashMap<>();
      if (variant == FunctionVariant.NESTED) {
        inner = ConcreteFunction.create(tf -> bnLayerFunctionBody(tf, innerNodes));
      }
      ConcreteFunction innerFn = inner;
      Map<String, String> modelNodes = new LinkedHashMap<>();
      model = ConcreteFunction.create(tf -> modelFunctionBody(tf, innerFn, modelNodes));
      functionNodes.put(model.getDefinedName(), Collections.unmodifiableMap(modelNodes));
      if (inner != null) {
        functionNodes.put(inner.getDefinedName(), Collections.unmodifiableMap(innerNodes));
      }

      TfTestGraphBuilder b = new TfTestGraphBuilder(g);
      Output<?> input = b.placeholder(INPUT, DataType.DT_FLOAT, Shape.of(inputShape()));
      nodes.put(INPUT, "Placeholder");
      ResourceVariable kernel = b.resourceVariable("conv2d/kernel", "Initializer/Const", convKernel(),
          KERNEL_SIZE, KERNEL_SIZE, IN_CHANNELS, CHANNELS);
      ResourceVariable gamma = b.resourceVariable("bn/gamma", "Initializer/ones", filled(1f), CHANNELS);
      ResourceVariable beta = b.resourceVariable("bn/beta", "Initializer/zeros", filled(0f), CHANNELS);
      ResourceVariable mean = b.resourceVariable("bn/moving_mean", "Initializer/zeros", filled(0f), CHANNELS);
      ResourceVariable variance = b.resourceVariable("bn/moving_variance", "Initializer/ones", filled(1f), CHANNELS);
      List<ResourceVariable> variables = List.of(kernel, gamma, beta, mean, variance);
      for (ResourceVariable v : variables) {
        nodes.put(v.name(), "VarHandleOp");
      }
      b.resourceSaver(variables);
      nodes.put("save/restore_all", "NoOp");
      b.noOp("init", variables.stream().map(ResourceVariable::assign).toList());

      Map<String, Operand<?>> args = new LinkedHashMap<>();
      args.put("input", input);
      args.put("conv2d_kernel", kernel.handle().output(0));
      args.put("bn_gamma", gamma.handle().output(0));
      args.put("bn_beta", beta.handle().output(0));
      args.put("bn_moving_mean", mean.handle().output(0));
      args.put("bn_moving_variance", variance.handle().output(0));
      String callType = variant == FunctionVariant.FLAT ? "PartitionedCall" : "StatefulPartitionedCall";
      Output<?> y = call(Ops.create(g), callType, callType, model, args);
      nodes.put(callType, callType);
      Output<?> out = b.identity(OUTPUT, y);
      nodes.put(OUTPUT, "Identity");

      try (Session s = new Session(g)) {
        Session.Runner init = s.runner();
        List<TFloat32> feeds = new ArrayList<>();
        try {
          feeds.add(feed(init, gamma.initialValue(), params.gamma()));
          feeds.add(feed(init, beta.initialValue(), params.beta()));
          feeds.add(feed(init, mean.initialValue(), params.movingMean()));
          feeds.add(feed(init, variance.initialValue(), params.movingVariance()));
          for (ResourceVariable v : variables) {
            init.addTarget(v.assign());
          }
          init.run();
        } finally {
          feeds.forEach(TFloat32::close);
        }
        export(s, input, out, dir);
      }
    } finally {
      if (model != null) {
        model.close();
      }
      if (inner != null) {
        inner.close();
      }
    }
    return savedModel(dir, List.of("bn/FusedBatchNormV3"), List.of(), false, params, nodes,
        Collections.unmodifiableMap(functionNodes));
  }

  // ---- 5. frozen graph ----

  /**
   * A frozen GraphDef ({@code <dir>/frozen_graph.pb}) whose parameters are Const nodes
   * ({@code conv2d/kernel}, {@code bn/gamma}, {@code bn/beta}, {@code bn/moving_mean},
   * {@code bn/moving_variance}, each read through an Identity {@code <name>/read} as
   * freeze_graph leaves them), with the fused or the decomposed inference pattern.
   */
  public static Model frozenGraph(Path dir, FrozenVariant variant) {
    BnParams params = trainedParams();
    Map<String, String> nodes = new LinkedHashMap<>();
    Path file = dir.resolve(FROZEN_GRAPH_FILE);
    List<String> bnNodes;
    try (Graph g = new Graph()) {
      TfTestGraphBuilder b = new TfTestGraphBuilder(g);
      Output<?> input = b.placeholder(INPUT, DataType.DT_FLOAT, Shape.of(inputShape()));
      nodes.put(INPUT, "Placeholder");
      Output<?> kernel = constant(b, "conv2d/kernel", convKernel(), nodes, KERNEL_SIZE, KERNEL_SIZE, IN_CHANNELS, CHANNELS);
      Output<?> conv = b.conv2dSame("conv2d/Conv2D", input, kernel);
      nodes.put("conv2d/Conv2D", "Conv2D");
      Output<?> gamma = constant(b, "bn/gamma", params.gamma(), nodes, CHANNELS);
      Output<?> beta = constant(b, "bn/beta", params.beta(), nodes, CHANNELS);
      Output<?> mean = constant(b, "bn/moving_mean", params.movingMean(), nodes, CHANNELS);
      Output<?> variance = constant(b, "bn/moving_variance", params.movingVariance(), nodes, CHANNELS);
      Output<?> y;
      if (variant == FrozenVariant.FUSED) {
        y = b.fusedBatchNormV3("bn/FusedBatchNormV3", conv, gamma, beta, mean, variance, EPSILON, false, 1f).output(0);
        nodes.put("bn/FusedBatchNormV3", "FusedBatchNormV3");
        bnNodes = List.of("bn/FusedBatchNormV3");
      } else {
        y = decomposed(b, conv, gamma, beta, mean, variance, nodes);
        bnNodes = List.of("bn/batchnorm/Rsqrt");
      }
      b.identity(OUTPUT, y);
      nodes.put(OUTPUT, "Identity");
      Files.createDirectories(dir);
      Files.write(file, g.toGraphDef().toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Model(file, Format.FROZEN_GRAPH, null, null, INPUT, inputShape(), OUTPUT, List.of(BN_LAYER), bnNodes,
        List.of(), false, params, Collections.unmodifiableMap(nodes), Map.of());
  }

  // ---- 6. tf.cond(is_training, training BN, inference BN) ----

  /**
   * The TF1 pattern {@code tf.cond(is_training, lambda: bn(x, training=True), lambda: bn(x,
   * training=False))} with {@code is_training} a {@code PlaceholderWithDefault(False)} the
   * signature does not feed: {@code cond/Switch} routes the conv output to
   * {@code cond/bn_train/FusedBatchNormV3} (is_training=true, output 1) or
   * {@code cond/bn_infer/FusedBatchNormV3} (output 0), and {@code cond/Merge} joins them. With
   * {@code sharedVariables} both read {@code bn/*}; without (the {@code reuse} mistake) the
   * inference branch reads a second set {@code bn_1/*} that training never updated (0 and 1).
   */
  public static Model tf1CondSavedModel(Path dir, boolean sharedVariables) {
    BnParams params = trainedParams();
    Map<String, String> nodes = new LinkedHashMap<>();
    try (Graph g = new Graph()) {
      TfTestGraphBuilder b = new TfTestGraphBuilder(g);
      Tf1Layer layer = tf1Layer(b, nodes);
      Output<?> isTraining = b.op("PlaceholderWithDefault", "is_training",
          List.of(b.op("Const", "is_training/input", List.of(), a -> {
            try (org.tensorflow.types.TBool t = org.tensorflow.types.TBool.scalarOf(false)) {
              a.setAttr("dtype", DataType.DT_BOOL).setAttr("value", t);
            }
          }).output(0)),
          a -> a.setAttr("dtype", DataType.DT_BOOL).setAttr("shape", Shape.scalar())).output(0);
      GraphOperation sw = b.op("Switch", "cond/Switch", List.of(layer.conv(), isTraining),
          a -> a.setAttr("T", DataType.DT_FLOAT));
      GraphOperation train = b.fusedBatchNormV3("cond/bn_train/FusedBatchNormV3", sw.output(1), layer.gamma().read(),
          layer.beta().read(), layer.mean().read(), layer.variance().read(), EPSILON, true, TRAINING_AVG_FACTOR);
      List<RefVariable> extra = new ArrayList<>();
      Output<?>[] inferParams = {layer.gamma().read(), layer.beta().read(), layer.mean().read(), layer.variance().read()};
      if (!sharedVariables) {
        RefVariable gamma1 = b.refVariable("bn_1/gamma", "Initializer/ones", filled(1f));
        RefVariable beta1 = b.refVariable("bn_1/beta", "Initializer/zeros", filled(0f));
        RefVariable mean1 = b.refVariable("bn_1/moving_mean", "Initializer/zeros", filled(0f));
        RefVariable variance1 = b.refVariable("bn_1/moving_variance", "Initializer/ones", filled(1f));
        extra.addAll(List.of(gamma1, beta1, mean1, variance1));
        inferParams = new Output<?>[] {gamma1.read(), beta1.read(), mean1.read(), variance1.read()};
      }
      GraphOperation infer = b.fusedBatchNormV3("cond/bn_infer/FusedBatchNormV3", sw.output(0), inferParams[0],
          inferParams[1], inferParams[2], inferParams[3], EPSILON, false, 1f);
      GraphOperation merge = b.op("Merge", "cond/Merge", List.of(), a -> a
          .addInputList(new Output<?>[] {infer.output(0), train.output(0)})
          .setAttr("T", DataType.DT_FLOAT).setAttr("N", 2L));
      Output<?> out = b.identity(OUTPUT, merge.output(0));
      List<RefVariable> all = new ArrayList<>(layer.variables());
      all.addAll(extra);
      b.noOp("init", all.stream().map(RefVariable::assign).toList());
      try (Session s = new Session(b.graph())) {
        Session.Runner init = s.runner();
        List<TFloat32> feeds = new ArrayList<>();
        try {
          feeds.add(feed(init, layer.gamma().initialValue(), params.gamma()));
          feeds.add(feed(init, layer.beta().initialValue(), params.beta()));
          feeds.add(feed(init, layer.mean().initialValue(), params.movingMean()));
          feeds.add(feed(init, layer.variance().initialValue(), params.movingVariance()));
          for (RefVariable v : all) {
            init.addTarget(v.assign());
          }
          init.run();
        } finally {
          feeds.forEach(TFloat32::close);
        }
        export(s, layer.input(), out, dir);
      }
    }
    return savedModel(dir, List.of("cond/bn_infer/FusedBatchNormV3"), List.of("cond/bn_train/FusedBatchNormV3"),
        false, sharedVariables ? params : neverUpdatedParams(), nodes, Map.of());
  }

  // ---- building blocks ----

  private record Tf1Layer(Output<?> input, RefVariable kernel, Output<?> conv, RefVariable gamma, RefVariable beta,
      RefVariable mean, RefVariable variance) {
    List<RefVariable> variables() {
      return List.of(kernel, gamma, beta, mean, variance);
    }
  }

  /** input, conv2d/kernel + conv2d/Conv2D, and the four BN variables with ones/zeros initializers. */
  private static Tf1Layer tf1Layer(TfTestGraphBuilder b, Map<String, String> nodes) {
    Output<?> input = b.placeholder(INPUT, DataType.DT_FLOAT, Shape.of(inputShape()));
    nodes.put(INPUT, "Placeholder");
    RefVariable kernel = b.refVariable("conv2d/kernel", "Initializer/Const", convKernel(),
        KERNEL_SIZE, KERNEL_SIZE, IN_CHANNELS, CHANNELS);
    Output<?> conv = b.conv2dSame("conv2d/Conv2D", input, kernel.read());
    RefVariable gamma = b.refVariable("bn/gamma", "Initializer/ones", filled(1f));
    RefVariable beta = b.refVariable("bn/beta", "Initializer/zeros", filled(0f));
    RefVariable mean = b.refVariable("bn/moving_mean", "Initializer/zeros", filled(0f));
    RefVariable variance = b.refVariable("bn/moving_variance", "Initializer/ones", filled(1f));
    for (RefVariable v : List.of(kernel, gamma, beta, mean, variance)) {
      nodes.put(v.name(), "VariableV2");
      nodes.put(v.name() + "/read", "Identity");
    }
    nodes.put("conv2d/Conv2D", "Conv2D");
    return new Tf1Layer(input, kernel, conv, gamma, beta, mean, variance);
  }

  /** tf.nn.moments(x, [0, 1, 2]) as TF1 names it; returns {Squeeze (mean), Squeeze_1 (variance)}. */
  private static Output<?>[] moments(TfTestGraphBuilder b, Output<?> x, Map<String, String> nodes) {
    Output<?> mean = b.mean("bn/moments/mean", x, b.constInt("bn/moments/mean/reduction_indices", 0, 1, 2), true);
    Output<?> stop = b.unary("StopGradient", "bn/moments/StopGradient", mean);
    Output<?> sqd = b.binary("SquaredDifference", "bn/moments/SquaredDifference", x, stop);
    Output<?> variance = b.mean("bn/moments/variance", sqd,
        b.constInt("bn/moments/variance/reduction_indices", 0, 1, 2), true);
    Output<?> squeezedMean = b.squeeze("bn/moments/Squeeze", mean, 0, 1, 2);
    Output<?> squeezedVariance = b.squeeze("bn/moments/Squeeze_1", variance, 0, 1, 2);
    nodes.put("bn/moments/mean", "Mean");
    nodes.put("bn/moments/StopGradient", "StopGradient");
    nodes.put("bn/moments/SquaredDifference", "SquaredDifference");
    nodes.put("bn/moments/variance", "Mean");
    nodes.put("bn/moments/Squeeze", "Squeeze");
    nodes.put("bn/moments/Squeeze_1", "Squeeze");
    return new Output<?>[] {squeezedMean, squeezedVariance};
  }

  /** {@code var -= (var - value) * decay}: name/decay, name/sub, name/mul, name (AssignSub). */
  private static void movingAverageUpdate(TfTestGraphBuilder b, String name, RefVariable variable, Output<?> value,
      Map<String, String> nodes) {
    Output<?> decay = b.constFloat(name + "/decay", MOVING_AVG_DECAY);
    Output<?> sub = b.binary("Sub", name + "/sub", variable.read(), value);
    Output<?> mul = b.binary("Mul", name + "/mul", sub, decay);
    b.op("AssignSub", name, List.of(variable.variable().output(0), mul),
        a -> a.setAttr("T", DataType.DT_FLOAT).setAttr("use_locking", false));
    nodes.put(name, "AssignSub");
  }

  /** The unfused BN of tf.layers; returns bn/batchnorm/add_1. */
  private static Output<?> decomposed(TfTestGraphBuilder b, Output<?> x, Output<?> gamma, Output<?> beta,
      Output<?> mean, Output<?> variance, Map<String, String> nodes) {
    Output<?> eps = b.constFloat("bn/batchnorm/add/y", EPSILON);
    Output<?> add = b.binary("Add", "bn/batchnorm/add", variance, eps);
    Output<?> rsqrt = b.unary("Rsqrt", "bn/batchnorm/Rsqrt", add);
    Output<?> mul = b.binary("Mul", "bn/batchnorm/mul", rsqrt, gamma);
    Output<?> mul1 = b.binary("Mul", "bn/batchnorm/mul_1", x, mul);
    Output<?> mul2 = b.binary("Mul", "bn/batchnorm/mul_2", mean, mul);
    Output<?> sub = b.binary("Sub", "bn/batchnorm/sub", beta, mul2);
    Output<?> add1 = b.binary("Add", "bn/batchnorm/add_1", mul1, sub);
    nodes.put("bn/batchnorm/add/y", "Const");
    nodes.put("bn/batchnorm/add", "Add");
    nodes.put("bn/batchnorm/Rsqrt", "Rsqrt");
    nodes.put("bn/batchnorm/mul", "Mul");
    nodes.put("bn/batchnorm/mul_1", "Mul");
    nodes.put("bn/batchnorm/mul_2", "Mul");
    nodes.put("bn/batchnorm/sub", "Sub");
    nodes.put("bn/batchnorm/add_1", "Add");
    return add1;
  }

  private static Output<?> constant(TfTestGraphBuilder b, String name, float[] values, Map<String, String> nodes,
      long... shape) {
    Output<?> c = b.constFloat(name, values, shape);
    Output<?> read = b.identity(name + "/read", c);
    nodes.put(name, "Const");
    nodes.put(name + "/read", "Identity");
    return read;
  }

  /** Body of function "model": Conv2D, then the BN inline or through a call of {@code bnLayer}. */
  private static Signature modelFunctionBody(Ops tf, ConcreteFunction bnLayer, Map<String, String> nodes) {
    TfTestGraphBuilder b = new TfTestGraphBuilder(tf);
    Output<?> input = b.placeholder("input", DataType.DT_FLOAT, Shape.of(inputShape()));
    Output<?> kernelHandle = b.placeholder("conv2d_kernel", DataType.DT_RESOURCE, Shape.scalar());
    Output<?> gamma = b.placeholder("bn_gamma", DataType.DT_RESOURCE, Shape.scalar());
    Output<?> beta = b.placeholder("bn_beta", DataType.DT_RESOURCE, Shape.scalar());
    Output<?> mean = b.placeholder("bn_moving_mean", DataType.DT_RESOURCE, Shape.scalar());
    Output<?> variance = b.placeholder("bn_moving_variance", DataType.DT_RESOURCE, Shape.scalar());
    Output<?> kernel = b.readVariable("conv2d/Conv2D/ReadVariableOp", kernelHandle);
    Output<?> conv = b.conv2dSame("conv2d/Conv2D", input, kernel);
    nodes.put("conv2d/Conv2D/ReadVariableOp", "ReadVariableOp");
    nodes.put("conv2d/Conv2D", "Conv2D");
    Output<?> y;
    if (bnLayer == null) {
      y = fusedInFunction(b, conv, gamma, beta, mean, variance, nodes);
    } else {
      Map<String, Operand<?>> args = new LinkedHashMap<>();
      args.put("x", conv);
      args.put("bn_gamma", gamma);
      args.put("bn_beta", beta);
      args.put("bn_moving_mean", mean);
      args.put("bn_moving_variance", variance);
      y = call(tf, "PartitionedCall", "bn/PartitionedCall", bnLayer, args);
      nodes.put("bn/PartitionedCall", "PartitionedCall");
    }
    Output<?> out = b.identity("Identity", y);
    return Signature.builder().key("model")
        .input("input", input).input("conv2d_kernel", kernelHandle)
        .input("bn_gamma", gamma).input("bn_beta", beta)
        .input("bn_moving_mean", mean).input("bn_moving_variance", variance)
        .output("output", out).build();
  }

  /** Body of function "bn_layer" (NESTED): the BN on its argument x. */
  private static Signature bnLayerFunctionBody(Ops tf, Map<String, String> nodes) {
    TfTestGraphBuilder b = new TfTestGraphBuilder(tf);
    Output<?> x = b.placeholder("x", DataType.DT_FLOAT, Shape.of(-1, HEIGHT, WIDTH, CHANNELS));
    Output<?> gamma = b.placeholder("bn_gamma", DataType.DT_RESOURCE, Shape.scalar());
    Output<?> beta = b.placeholder("bn_beta", DataType.DT_RESOURCE, Shape.scalar());
    Output<?> mean = b.placeholder("bn_moving_mean", DataType.DT_RESOURCE, Shape.scalar());
    Output<?> variance = b.placeholder("bn_moving_variance", DataType.DT_RESOURCE, Shape.scalar());
    Output<?> y = b.identity("Identity", fusedInFunction(b, x, gamma, beta, mean, variance, nodes));
    return Signature.builder().key("bn_layer")
        .input("x", x).input("bn_gamma", gamma).input("bn_beta", beta)
        .input("bn_moving_mean", mean).input("bn_moving_variance", variance)
        .output("y", y).build();
  }

  /** Keras 2 names: bn/ReadVariableOp(_1) for gamma/beta, bn/FusedBatchNormV3/ReadVariableOp(_1) for the statistics. */
  private static Output<?> fusedInFunction(TfTestGraphBuilder b, Output<?> x, Output<?> gamma, Output<?> beta,
      Output<?> mean, Output<?> variance, Map<String, String> nodes) {
    Output<?> g = b.readVariable("bn/ReadVariableOp", gamma);
    Output<?> be = b.readVariable("bn/ReadVariableOp_1", beta);
    Output<?> m = b.readVariable("bn/FusedBatchNormV3/ReadVariableOp", mean);
    Output<?> v = b.readVariable("bn/FusedBatchNormV3/ReadVariableOp_1", variance);
    GraphOperation bn = b.fusedBatchNormV3("bn/FusedBatchNormV3", x, g, be, m, v, EPSILON, false, 1f);
    nodes.put("bn/ReadVariableOp", "ReadVariableOp");
    nodes.put("bn/ReadVariableOp_1", "ReadVariableOp");
    nodes.put("bn/FusedBatchNormV3/ReadVariableOp", "ReadVariableOp");
    nodes.put("bn/FusedBatchNormV3/ReadVariableOp_1", "ReadVariableOp");
    nodes.put("bn/FusedBatchNormV3", "FusedBatchNormV3");
    return bn.output(0);
  }

  /** A (Stateful)PartitionedCall named {@code name}; arguments in the function's argument order. */
  private static Output<?> call(Ops tf, String type, String name, ConcreteFunction fn, Map<String, Operand<?>> args) {
    List<Operand<?>> inputs = new ArrayList<>();
    for (String arg : fn.signature().inputNames()) {
      Operand<?> in = args.get(arg);
      if (in == null) {
        throw new IllegalArgumentException("no argument " + arg + " for " + fn.getDefinedName());
      }
      inputs.add(in);
    }
    List<Class<? extends TType>> outTypes = List.of(TFloat32.class);
    int slash = name.lastIndexOf('/');
    Ops named = slash < 0 ? tf.withName(name) : tf.withSubScope(name.substring(0, slash)).withName(name.substring(slash + 1));
    return type.equals("PartitionedCall")
        ? PartitionedCall.create(named.scope(), inputs, outTypes, fn).output().get(0)
        : StatefulPartitionedCall.create(named.scope(), inputs, outTypes, fn).output().get(0);
  }

  /** Adds {@code init}, sets the variables (BN values fed into their initializers) and exports. */
  private static void exportTf1(TfTestGraphBuilder b, Tf1Layer layer, BnParams params, Output<?> out, Path dir) {
    b.noOp("init", layer.variables().stream().map(RefVariable::assign).toList());
    try (Session s = new Session(b.graph())) {
      Session.Runner init = s.runner();
      List<TFloat32> feeds = new ArrayList<>();
      try {
        feeds.add(feed(init, layer.gamma().initialValue(), params.gamma()));
        feeds.add(feed(init, layer.beta().initialValue(), params.beta()));
        feeds.add(feed(init, layer.mean().initialValue(), params.movingMean()));
        feeds.add(feed(init, layer.variance().initialValue(), params.movingVariance()));
        for (RefVariable v : layer.variables()) {
          init.addTarget(v.assign());
        }
        init.run();
      } finally {
        feeds.forEach(TFloat32::close);
      }
      export(s, layer.input(), out, dir);
    }
  }

  /** Feeding an initializer Const sets the variable to {@code values} without adding nodes. */
  private static TFloat32 feed(Session.Runner runner, Output<?> initializer, float[] values) {
    TFloat32 t = TFloat32.vectorOf(values);
    runner.feed(initializer, t);
    return t;
  }

  private static void export(Session s, Output<?> input, Output<?> out, Path dir) {
    try {
      SavedModelBundle.exporter(dir.toString())
          .withSession(s)
          .withTags(TAG)
          .withSignature(Signature.builder().key(SIGNATURE_KEY).input(INPUT, input).output(OUTPUT, out).build())
          .export();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Model savedModel(Path dir, List<String> bnNodes, List<String> otherBnNodes, boolean training,
      BnParams params, Map<String, String> nodes, Map<String, Map<String, String>> functionNodes) {
    return new Model(dir, Format.SAVED_MODEL, SIGNATURE_KEY, TAG, INPUT, inputShape(), OUTPUT, List.of(BN_LAYER),
        bnNodes, otherBnNodes, training, params, Collections.unmodifiableMap(nodes), functionNodes);
  }

  private static float[] filled(float value) {
    float[] a = new float[CHANNELS];
    java.util.Arrays.fill(a, value);
    return a;
  }
}
