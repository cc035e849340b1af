package dev.bncheck.samples.mistakes;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.CodedOutputStream;
import dev.bncheck.load.tensorflow.TfTestGraphBuilder;
import dev.bncheck.load.tensorflow.TfTestGraphBuilder.RefVariable;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.types.TFloat32;

/**
 * Trains the same small conv net (8x8x1 gratings in 4 orientations; conv 3x3x8 + BN + ReLU,
 * global average pool, dense 16 + BN + ReLU, dense 4) in TensorFlow Java with real gradients,
 * once per classic TF1 BN mistake, and exports each as a TF1 SavedModel (VariableV2 variables,
 * tag {@code serve}, signature {@code serving_default}: {@code input} → {@code output} logits)
 * into {@code samples/tf-bn-mistakes/tf1-*}. Held-out inputs and labels go to
 * {@code samples/tf-bn-mistakes/tf1-data/} as {@code .npy}, with a README of measured accuracies and
 * bncheck's verdicts. Fixed seeds. Run by {@code scripts/make-tf1-mistakes.sh}.
 *
 * <p>Every model has a training tower (BN in training mode, the moving-average update ops
 * {@code bnN/AssignMovingAvg} and {@code _1} as AssignSub with {@code 1 - decay}, the loss, the
 * gradients and ApplyMomentum) and, except {@code tf1-training-true}, a serving tower under
 * {@code eval/} that reuses the same variables, as TF1 code that builds the model twice does.
 */
class Tf1MistakesGenerator {

  static final Path ROOT = Path.of("samples", "tf-bn-mistakes");
  static final int SIDE = 8;
  static final int CLASSES = 4;
  static final int C1 = 8;
  static final int F1 = 16;
  static final int TRAIN_N = 2048;
  static final int TEST_N = 256;
  static final int BATCH = 64;
  static final int STEPS = 300;
  static final float EPSILON = 0.001f;
  static final float LEARNING_RATE = 0.05f;
  static final float MOMENTUM = 0.9f;
  static final long TRAIN_SEED = 20261201L;
  static final long TEST_SEED = 20261202L;
  static final long INIT_SEED = 20261203L;

  enum Serving { INFERENCE, TRAINING, COND_UNSHARED }

  /** The variants: directory, fused BN, update ops run with the train op, decay, serving graph. */
  enum Variant {
    UPDATE_OPS_NOT_RUN("tf1-update-ops-not-run", false, false, 0.9f, Serving.INFERENCE,
        "contrib-style unfused BN (tf.nn.moments); AssignMovingAvg ops in UPDATE_OPS, train_op does not run them"),
    UNSHARED_COND("tf1-unshared-cond", true, true, 0.9f, Serving.COND_UNSHARED,
        "serving BN in tf.cond(is_training): training branch reads bnN/*, inference branch bnN_1/* (never trained)"),
    NO_CONTROL_DEPS("tf1-no-control-deps", true, false, 0.9f, Serving.INFERENCE,
        "slim-style fused BN; minimize() built without tf.control_dependencies(update_ops)"),
    STALE_DECAY("tf1-stale-decay", true, true, 0.999f, Serving.INFERENCE,
        "update ops run with the train step, decay 0.999, " + STEPS + " steps"),
    TRAINING_TRUE("tf1-training-true", true, true, 0.9f, Serving.TRAINING,
        "exported with is_training=True: the signature runs the training tower"),
    CORRECT("tf1-correct", true, true, 0.9f, Serving.INFERENCE,
        "update ops run with the train step, decay 0.9, one set of variables, inference-mode serving graph");

    final String dir;
    final boolean fused;
    final boolean runUpdates;
    final float decay;
    final Serving serving;
    final String description;

    Variant(String dir, boolean fused, boolean runUpdates, float decay, Serving serving, String description) {
      this.dir = dir;
      this.fused = fused;
      this.runUpdates = runUpdates;
      this.decay = decay;
      this.serving = serving;
      this.description = description;
    }

    Path path() {
      return ROOT.resolve(dir);
    }
  }

  /** Images [n, 8, 8, 1] row-major and labels. */
  record Data(float[] x, int[] y, int n) {
    float[] slice(int from, int count) {
      float[] s = new float[count * SIDE * SIDE];
      System.arraycopy(x, from * SIDE * SIDE, s, 0, s.length);
      return s;
    }
  }

  record Measured(Variant variant, float trainLoss, double trainModeAccuracy, double accuracy64, double accuracy1,
      BnCheckRun check) {}

  @Test
  void regenerate() {
    assumeTrue(Boolean.getBoolean("bncheck.regenerate"), "run scripts/make-tf1-mistakes.sh to regenerate");
    generateAll();
  }

  public static void main(String[] args) {
    generateAll();
  }

  static void generateAll() {
    Data train = dataset(TRAIN_N, TRAIN_SEED);
    Data test = dataset(TEST_N, TEST_SEED);
    writeHeldOutData(BnCheckRun.DATA_DIR, test);
    List<Measured> results = new ArrayList<>();
    for (Variant v : Variant.values()) {
      float[] trained = trainAndExport(v, train, test, v.path());
      double[] acc = accuracy(v.path(), test);
      BnCheckRun check = BnCheckRun.check(v.path());
      Measured m = new Measured(v, trained[0], trained[1], acc[0], acc[1], check);
      System.out.printf("%-24s loss %.3f train-mode acc %.3f  acc@64 %.3f  acc@1 %.3f  exit %d  %s%n", v.dir,
          m.trainLoss(), m.trainModeAccuracy(), m.accuracy64(), m.accuracy1(), check.exitCode(), check.summary());
      results.add(m);
    }
    writeReadme(results);
  }

  // ---- data ----

  /** {@code inputs.npy} and {@code labels.npy} of the held-out samples, into {@code dir}. */
  static void writeHeldOutData(Path dir, Data test) {
    try {
      Files.createDirectories(dir);
      float[] x = test.x();
      ByteBuffer bx = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (float v : x) {
        bx.putFloat(v);
      }
      writeNpy(dir.resolve("inputs.npy"), "<f4", new long[] {test.n(), SIDE, SIDE, 1}, bx.array());
      ByteBuffer by = ByteBuffer.allocate(test.n() * 8).order(ByteOrder.LITTLE_ENDIAN);
      for (int v : test.y()) {
        by.putLong(v);
      }
      writeNpy(dir.resolve("labels.npy"), "<i8", new long[] {test.n()}, by.array());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Sinusoidal gratings in 4 orientations (horizontal, vertical, two diagonals) with random
   * frequency, phase and amplitude, heavy pixel noise, and a brightness offset around 3 so that
   * the conv activations are far from mean 0 / variance 1.
   */
  static Data dataset(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n * SIDE * SIDE];
    int[] y = new int[n];
    double s2 = Math.sqrt(2);
    for (int i = 0; i < n; i++) {
      int k = r.nextInt(CLASSES);
      y[i] = k;
      double f = 0.9 + 0.7 * r.nextDouble();
      double phi = 2 * Math.PI * r.nextDouble();
      double a = 0.6 + 0.8 * r.nextDouble();
      double b = 3 + 0.5 * r.nextGaussian();
      for (int row = 0; row < SIDE; row++) {
        for (int col = 0; col < SIDE; col++) {
          double u = switch (k) {
            case 0 -> row;
            case 1 -> col;
            case 2 -> (row + col) / s2;
            default -> (row - col) / s2;
          };
          x[(i * SIDE + row) * SIDE + col] = (float) (b + 2 * (a * Math.sin(f * u + phi) + 0.6 * r.nextGaussian()));
        }
      }
    }
    return new Data(x, y, n);
  }

  static void writeNpy(Path file, String descr, long[] shape, byte[] data) throws IOException {
    StringBuilder dims = new StringBuilder();
    for (long d : shape) {
      dims.append(d).append(", ");
    }
    String shapeText = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + dims.substring(0, dims.length() - 2) + ")";
    StringBuilder header = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': "
        + shapeText + ", }");
    while ((10 + header.length() + 1) % 64 != 0) {
      header.append(' ');
    }
    header.append('\n');
    byte[] h = header.toString().getBytes(StandardCharsets.US_ASCII);
    ByteBuffer out = ByteBuffer.allocate(10 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    out.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
    out.putShort((short) h.length).put(h).put(data);
    Files.write(file, out.array());
  }

  // ---- model ----

  record BnVars(RefVariable gamma, RefVariable beta, RefVariable mean, RefVariable variance) {
    List<RefVariable> all() {
      return List.of(gamma, beta, mean, variance);
    }
  }

  /** How a tower computes one BN layer: scope, input, variables, whether the input is 2-D. */
  interface BnLayer {
    Output<?> apply(String scope, Output<?> x, BnVars vars, int channels, boolean twoD);
  }

  private static BnVars bnVars(TfTestGraphBuilder b, String scope, int channels) {
    return new BnVars(
        b.refVariable(scope + "/gamma", "Initializer/ones", filled(channels, 1f), channels),
        b.refVariable(scope + "/beta", "Initializer/zeros", filled(channels, 0f), channels),
        b.refVariable(scope + "/moving_mean", "Initializer/zeros", filled(channels, 0f), channels),
        b.refVariable(scope + "/moving_variance", "Initializer/ones", filled(channels, 1f), channels));
  }

  /** Trains the variant, exports it to {@code out} and returns {final loss, training-mode accuracy on the test set}. */
  static float[] trainAndExport(Variant v, Data train, Data test, Path out) {
    try (Graph g = new Graph()) {
      TfTestGraphBuilder b = new TfTestGraphBuilder(g);
      SplittableRandom init = new SplittableRandom(INIT_SEED);
      Output<?> input = b.placeholder("input", DataType.DT_FLOAT, Shape.of(-1, SIDE, SIDE, 1));
      Output<?> labels = b.placeholder("labels", DataType.DT_FLOAT, Shape.of(-1, CLASSES));
      RefVariable kernel = b.refVariable("conv1/kernel", "Initializer/random_normal",
          he(init, 3 * 3, 3 * 3 * C1), 3, 3, 1, C1);
      BnVars bn1 = bnVars(b, "bn1", C1);
      RefVariable fcW = b.refVariable("fc1/kernel", "Initializer/random_normal", he(init, C1, C1 * F1), C1, F1);
      BnVars bn2 = bnVars(b, "bn2", F1);
      RefVariable outW = b.refVariable("logits/kernel", "Initializer/random_normal",
          he(init, F1, F1 * CLASSES), F1, CLASSES);
      RefVariable outB = b.refVariable("logits/bias", "Initializer/zeros", filled(CLASSES, 0f), CLASSES);
      List<RefVariable> trainable = List.of(kernel, bn1.gamma(), bn1.beta(), fcW, bn2.gamma(), bn2.beta(), outW, outB);
      List<RefVariable> all = new ArrayList<>(List.of(kernel, fcW, outW, outB));
      all.addAll(bn1.all());
      all.addAll(bn2.all());

      // training tower
      List<GraphOperation> updates = new ArrayList<>();
      BnLayer trainBn = v.fused
          ? (scope, x, vars, ch, twoD) -> fusedTraining(b, scope, x, vars, ch, twoD, updates, v.decay)
          : (scope, x, vars, ch, twoD) -> decomposedTraining(b, scope, x, vars, twoD, updates, v.decay);
      Output<?> trainLogits = tower(b, "", input, kernel, bn1, fcW, bn2, outW, outB, trainBn);
      GraphOperation xent = b.op("SoftmaxCrossEntropyWithLogits", "loss/SoftmaxCrossEntropyWithLogits",
          List.of(trainLogits, labels), a -> a.setAttr("T", DataType.DT_FLOAT));
      Output<?> loss = b.mean("loss/Mean", xent.output(0), b.constInt("loss/Const", 0), false);

      // serving tower
      Output<?> servingLogits = switch (v.serving) {
        case TRAINING -> trainLogits;
        case INFERENCE -> tower(b, "eval/", input, kernel, bn1, fcW, bn2, outW, outB, v.fused
            ? (scope, x, vars, ch, twoD) -> fusedInference(b, scope, x, vars, ch, twoD)
            : (scope, x, vars, ch, twoD) -> decomposed(b, scope, x, vars.gamma().read(), vars.beta().read(),
                vars.mean().read(), vars.variance().read()));
        case COND_UNSHARED -> {
          Output<?> isTraining = b.isTrainingFlag("is_training");
          yield tower(b, "eval/", input, kernel, bn1, fcW, bn2, outW, outB, (scope, x, vars, ch, twoD) -> {
            // the mistake: the inference branch creates its own variables instead of reusing bnN/*
            BnVars unshared = bnVars(b, vars.gamma().name().replace("/gamma", "_1"), ch);
            all.addAll(unshared.all());
            return condBn(b, scope, x, isTraining, vars, unshared, ch, twoD);
          });
        }
      };
      Output<?> output = b.identity("output", servingLogits);

      // gradients and momentum SGD
      List<Output<?>> reads = trainable.stream().<Output<?>>map(RefVariable::read).toList();
      Gradients grads = Gradients.create(Ops.create(g).withSubScope("gradients").scope(), loss, reads);
      // step schedule: LEARNING_RATE, then a tenth of it for the last third of the run (fed per step)
      Output<?> lr = b.op("PlaceholderWithDefault", "Momentum/learning_rate",
          List.of(b.constFloat("Momentum/learning_rate/input", LEARNING_RATE)),
          a -> a.setAttr("dtype", DataType.DT_FLOAT).setAttr("shape", Shape.scalar())).output(0);
      Output<?> mom = b.constFloat("Momentum/momentum", MOMENTUM);
      // Ref variables are updated in place: without this gate an ApplyMomentum could overwrite a
      // kernel that a backprop op still reads, and runs would differ (tf.train's GATE_GRAPH).
      List<GraphOperation> gradOps = new ArrayList<>();
      for (int i = 0; i < trainable.size(); i++) {
        gradOps.add((GraphOperation) grads.dy(i).op());
      }
      GraphOperation gate = b.noOp("gradients/gate_all", gradOps);
      List<GraphOperation> applies = new ArrayList<>();
      for (int i = 0; i < trainable.size(); i++) {
        RefVariable var = trainable.get(i);
        long[] shape = var.read().shape().asArray();
        RefVariable accum = b.refVariable(var.name() + "/Momentum", "Initializer/zeros",
            new float[(int) Shape.of(shape).size()], shape);
        all.add(accum);
        Output<?> grad = grads.dy(i);
        applies.add(b.op("ApplyMomentum", "Momentum/update_" + var.name() + "/ApplyMomentum",
            List.of(var.ref(), accum.ref(), lr, grad, mom), a -> a.addControlInput(gate).setAttr("T", DataType.DT_FLOAT)
                .setAttr("use_locking", false).setAttr("use_nesterov", false)));
      }
      List<GraphOperation> trainDeps = new ArrayList<>(applies);
      if (v.runUpdates) {
        trainDeps.addAll(updates); // with tf.control_dependencies(tf.get_collection(UPDATE_OPS))
      }
      GraphOperation trainOp = b.noOp("train_op", trainDeps);
      GraphOperation initOp = b.noOp("init", all.stream().map(RefVariable::assign).toList());

      try (Session s = new Session(g)) {
        s.runner().addTarget(initOp).run();
        // the committed samples were trained with these seeds: a new variant goes last
        @SuppressWarnings("EnumOrdinal")
        SplittableRandom shuffle = new SplittableRandom(TRAIN_SEED + v.ordinal());
        int[] order = permutation(train.n(), shuffle);
        int pos = 0;
        float lastLoss = Float.NaN;
        for (int step = 0; step < STEPS; step++) {
          if (pos + BATCH > train.n()) {
            order = permutation(train.n(), shuffle);
            pos = 0;
          }
          float[] bx = new float[BATCH * SIDE * SIDE];
          float[] by = new float[BATCH * CLASSES];
          for (int j = 0; j < BATCH; j++) {
            int idx = order[pos + j];
            System.arraycopy(train.x(), idx * SIDE * SIDE, bx, j * SIDE * SIDE, SIDE * SIDE);
            by[j * CLASSES + train.y()[idx]] = 1f;
          }
          pos += BATCH;
          float rate = step < STEPS * 2 / 3 ? LEARNING_RATE : LEARNING_RATE / 10;
          try (TFloat32 tx = images(bx, BATCH);
              TFloat32 tr = TFloat32.scalarOf(rate);
              TFloat32 ty = TFloat32.tensorOf(Shape.of(BATCH, CLASSES), DataBuffers.of(by, true, false));
              Result r = s.runner().feed(input, tx).feed(labels, ty).feed(lr, tr).addTarget(trainOp).fetch(loss).run()) {
            lastLoss = ((TFloat32) r.get(0)).getFloat();
          }
        }
        // what the engineer saw during training: the training-mode network, batches of 64
        int correct = 0;
        for (int from = 0; from < test.n(); from += BATCH) {
          int count = Math.min(BATCH, test.n() - from);
          try (TFloat32 tx = images(test.slice(from, count), count);
              Result r = s.runner().feed(input, tx).fetch(trainLogits).run()) {
            correct += countCorrect((TFloat32) r.get(0), test.y(), from, count);
          }
        }
        export(s, input, output, out);
        return new float[] {lastLoss, (float) correct / test.n()};
      }
    }
  }

  private static Output<?> tower(TfTestGraphBuilder b, String p, Output<?> input, RefVariable kernel, BnVars bn1,
      RefVariable fcW, BnVars bn2, RefVariable outW, RefVariable outB, BnLayer bn) {
    Output<?> conv = b.conv2dSame(p + "conv1/Conv2D", input, kernel.read());
    Output<?> h1 = b.unary("Relu", p + "Relu", bn.apply(p + "bn1", conv, bn1, C1, false));
    Output<?> pooled = b.mean(p + "gap/Mean", h1, b.constInt(p + "gap/Mean/reduction_indices", 1, 2), false);
    Output<?> fc = b.matMul(p + "fc1/MatMul", pooled, fcW.read());
    Output<?> h2 = b.unary("Relu", p + "Relu_1", bn.apply(p + "bn2", fc, bn2, F1, true));
    return b.biasAdd(p + "logits/BiasAdd", b.matMul(p + "logits/MatMul", h2, outW.read()), outB.read());
  }

  /** contrib/slim fused BN in training mode; 2-D inputs are reshaped to [-1, 1, 1, C] as contrib does. */
  private static Output<?> fusedTraining(TfTestGraphBuilder b, String scope, Output<?> x, BnVars v, int ch, boolean twoD,
      List<GraphOperation> updates, float decay) {
    Output<?> in = twoD ? b.reshape(scope + "/Reshape", x, -1, 1, 1, ch) : x;
    GraphOperation bn = b.fusedBatchNormV3(scope + "/FusedBatchNormV3", in, v.gamma().read(), v.beta().read(),
        v.mean().read(), v.variance().read(), EPSILON, true, 1f);
    updates.add(movingAverage(b, scope + "/AssignMovingAvg", v.mean(), bn.output(1), decay));
    updates.add(movingAverage(b, scope + "/AssignMovingAvg_1", v.variance(), bn.output(2), decay));
    return twoD ? b.reshape(scope + "/Reshape_1", bn.output(0), -1, ch) : bn.output(0);
  }

  private static Output<?> fusedInference(TfTestGraphBuilder b, String scope, Output<?> x, BnVars v, int ch, boolean twoD) {
    Output<?> in = twoD ? b.reshape(scope + "/Reshape", x, -1, 1, 1, ch) : x;
    GraphOperation bn = b.fusedBatchNormV3(scope + "/FusedBatchNormV3", in, v.gamma().read(), v.beta().read(),
        v.mean().read(), v.variance().read(), EPSILON, false, 1f);
    return twoD ? b.reshape(scope + "/Reshape_1", bn.output(0), -1, ch) : bn.output(0);
  }

  /** tf.cond(is_training, fused training BN on {@code train}, fused inference BN on {@code infer}). */
  private static Output<?> condBn(TfTestGraphBuilder b, String scope, Output<?> x, Output<?> isTraining, BnVars train,
      BnVars infer, int ch, boolean twoD) {
    Output<?> in = twoD ? b.reshape(scope + "/Reshape", x, -1, 1, 1, ch) : x;
    GraphOperation sw = b.op("Switch", scope + "/cond/Switch", List.of(in, isTraining),
        a -> a.setAttr("T", DataType.DT_FLOAT));
    GraphOperation t = b.fusedBatchNormV3(scope + "/cond/FusedBatchNormV3", sw.output(1), train.gamma().read(),
        train.beta().read(), train.mean().read(), train.variance().read(), EPSILON, true, 1f);
    GraphOperation i = b.fusedBatchNormV3(scope + "/cond/FusedBatchNormV3_1", sw.output(0), infer.gamma().read(),
        infer.beta().read(), infer.mean().read(), infer.variance().read(), EPSILON, false, 1f);
    GraphOperation merge = b.op("Merge", scope + "/cond/Merge", List.of(), a -> a
        .addInputList(new Output<?>[] {i.output(0), t.output(0)})
        .setAttr("T", DataType.DT_FLOAT).setAttr("N", 2L));
    return twoD ? b.reshape(scope + "/Reshape_1", merge.output(0), -1, ch) : merge.output(0);
  }

  /** contrib batch_norm(fused=False): tf.nn.moments over the batch (and spatial) axes, then the decomposed BN. */
  private static Output<?> decomposedTraining(TfTestGraphBuilder b, String scope, Output<?> x, BnVars v, boolean twoD,
      List<GraphOperation> updates, float decay) {
    int[] axes = twoD ? new int[] {0} : new int[] {0, 1, 2};
    long[] squeeze = twoD ? new long[] {0} : new long[] {0, 1, 2};
    Output<?> mean = b.mean(scope + "/moments/mean", x, b.constInt(scope + "/moments/mean/reduction_indices", axes),
        true);
    Output<?> stop = b.unary("StopGradient", scope + "/moments/StopGradient", mean);
    Output<?> sqd = b.binary("SquaredDifference", scope + "/moments/SquaredDifference", x, stop);
    Output<?> variance = b.mean(scope + "/moments/variance", sqd,
        b.constInt(scope + "/moments/variance/reduction_indices", axes), true);
    Output<?> m = b.squeeze(scope + "/moments/Squeeze", mean, squeeze);
    Output<?> var = b.squeeze(scope + "/moments/Squeeze_1", variance, squeeze);
    updates.add(movingAverage(b, scope + "/AssignMovingAvg", v.mean(), m, decay));
    updates.add(movingAverage(b, scope + "/AssignMovingAvg_1", v.variance(), var, decay));
    return decomposed(b, scope, x, v.gamma().read(), v.beta().read(), m, var);
  }

  /** The unfused BN pattern: add, Rsqrt, mul, mul_1, mul_2, sub, add_1 under scope/batchnorm. */
  private static Output<?> decomposed(TfTestGraphBuilder b, String scope, Output<?> x, Output<?> gamma, Output<?> beta,
      Output<?> mean, Output<?> variance) {
    String s = scope + "/batchnorm/";
    Output<?> add = b.binary("Add", s + "add", variance, b.constFloat(s + "add/y", EPSILON));
    Output<?> rsqrt = b.unary("Rsqrt", s + "Rsqrt", add);
    Output<?> mul = b.binary("Mul", s + "mul", rsqrt, gamma);
    Output<?> mul1 = b.binary("Mul", s + "mul_1", x, mul);
    Output<?> mul2 = b.binary("Mul", s + "mul_2", mean, mul);
    Output<?> sub = b.binary("Sub", s + "sub", beta, mul2);
    return b.binary("Add", s + "add_1", mul1, sub);
  }

  /** {@code moving -= (moving - value) * (1 - decay)}, as tf.train.assign_moving_average writes it. */
  private static GraphOperation movingAverage(TfTestGraphBuilder b, String name, RefVariable moving, Output<?> value,
      float decay) {
    Output<?> oneMinusDecay = b.constFloat(name + "/decay", 1f - decay);
    Output<?> sub = b.binary("Sub", name + "/sub", moving.read(), value);
    Output<?> mul = b.binary("Mul", name + "/mul", sub, oneMinusDecay);
    return b.op("AssignSub", name, List.of(moving.ref(), mul),
        a -> a.setAttr("T", DataType.DT_FLOAT).setAttr("use_locking", false));
  }

  private static void export(Session s, Output<?> input, Output<?> output, Path dir) {
    try {
      deleteRecursively(dir);
      SavedModelBundle.exporter(dir.toString())
          .withSession(s)
          .withTags("serve")
          .withSignature(Signature.builder().key("serving_default").input("input", input).output("output", output)
              .build())
          .export();
      rewriteDeterministically(dir.resolve("saved_model.pb"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * TensorFlow writes the attr maps of a graph in hash order, which changes from process to process;
   * sorted map entries make re-exports byte-identical so that regenerated samples diff cleanly.
   */
  private static void rewriteDeterministically(Path savedModelPb) throws IOException {
    SavedModel model = SavedModel.parseFrom(Files.readAllBytes(savedModelPb));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.useDeterministicSerialization();
    model.writeTo(out);
    out.flush();
    Files.write(savedModelPb, bytes.toByteArray());
  }

  // ---- measuring the exported model ----

  /** Accuracy of the exported SavedModel's serving signature at batch size 64 and at batch size 1. */
  static double[] accuracy(Path dir, Data test) {
    try (SavedModelBundle m = SavedModelBundle.load(dir.toString(), "serve")) {
      SessionFunction f = m.function("serving_default");
      double[] acc = new double[2];
      int[] batchSizes = {BATCH, 1};
      for (int k = 0; k < 2; k++) {
        int correct = 0;
        for (int from = 0; from < test.n(); from += batchSizes[k]) {
          int count = Math.min(batchSizes[k], test.n() - from);
          try (TFloat32 tx = images(test.slice(from, count), count);
              Result r = f.call(Map.of("input", tx))) {
            correct += countCorrect((TFloat32) r.get("output").orElseThrow(), test.y(), from, count);
          }
        }
        acc[k] = (double) correct / test.n();
      }
      return acc;
    }
  }

  private static int countCorrect(TFloat32 logits, int[] labels, int from, int count) {
    int correct = 0;
    for (int i = 0; i < count; i++) {
      int best = 0;
      for (int c = 1; c < CLASSES; c++) {
        if (logits.getFloat(i, c) > logits.getFloat(i, best)) {
          best = c;
        }
      }
      if (best == labels[from + i]) {
        correct++;
      }
    }
    return correct;
  }

  // ---- README ----

  private static void writeReadme(List<Measured> results) {
    StringBuilder md = new StringBuilder();
    md.append("# TF1 BN mistakes: measured\n\n")
        .append("Written by `scripts/make-tf1-mistakes.sh` (Tf1MistakesGenerator, fixed seeds). The same conv net ")
        .append("(conv 3x3x8 + BN + ReLU, global average pool, dense 16 + BN + ReLU, dense 4) trained ")
        .append(STEPS).append(" steps of batch ").append(BATCH)
        .append(" with momentum SGD (learning rate 0.05, 0.005 for the last third) on ").append(TRAIN_N).append(" synthetic 8x8 gratings (4 orientations). ")
        .append("`inputs.npy` / `labels.npy`: the ").append(TEST_N).append(" held-out samples.\n\n")
        .append("Train-mode accuracy: the training tower (batch statistics) on the held-out data in batches of 64 ")
        .append("-- what the engineer saw while training. Batch 64 / batch 1: the exported serving signature.\n\n")
        .append("| variant | mistake | final loss | train-mode acc | acc @ batch 64 | acc @ batch 1 | bncheck exit | ")
        .append("findings |\n|---|---|---|---|---|---|---|---|\n");
    for (Measured m : results) {
      md.append(String.format("| `%s` | %s | %.3f | %.3f | %.3f | %.3f | %d | %s |%n", m.variant().dir,
          m.variant().description, m.trainLoss(), m.trainModeAccuracy(), m.accuracy64(), m.accuracy1(),
          m.check().exitCode(), m.check().summary()));
    }
    try {
      Files.writeString(BnCheckRun.DATA_DIR.resolve("README.md"), md.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- small helpers ----

  private static TFloat32 images(float[] x, int n) {
    return TFloat32.tensorOf(Shape.of(n, SIDE, SIDE, 1), DataBuffers.of(x, true, false));
  }

  private static int[] permutation(int n, SplittableRandom r) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** He-normal initial values: N(0, 2 / fanIn). */
  private static float[] he(SplittableRandom r, int fanIn, int count) {
    float[] w = new float[count];
    double sd = Math.sqrt(2.0 / fanIn);
    for (int i = 0; i < count; i++) {
      w[i] = (float) (sd * r.nextGaussian());
    }
    return w;
  }

  private static float[] filled(int n, float value) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, value);
    return a;
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
