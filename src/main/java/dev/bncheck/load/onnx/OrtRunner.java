package dev.bncheck.load.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.bncheck.load.FailingSample;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.array.SampleOrder;
import dev.bncheck.model.Float16;
import dev.bncheck.model.Precision;
import dev.bncheck.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.IntUnaryOperator;

/**
 * The one place bncheck starts ONNX Runtime: a session on the in-memory copy of a model, run on
 * rows of the calibration data. Only ONNX inputs reach it, so runs on JSON dumps and TensorFlow
 * models never load its native library.
 */
final class OrtRunner implements AutoCloseable {

  /**
   * The newest default-domain opset the bundled ONNX Runtime (1.22) runs; it refuses later ones
   * with a message about its own source code.
   */
  static final long MAX_OPSET = 22;

  /** The newest IR version the bundled ONNX Runtime (1.22) reads; it refuses later ones with a C++ message. */
  static final long MAX_IR_VERSION = 10;

  private final Duration timeout;
  private final OrtEnvironment environment;
  private final OrtSession session;
  private final ScheduledExecutorService watchdog;

  private OrtRunner(Duration timeout, OrtEnvironment environment, OrtSession session) {
    this.timeout = timeout;
    this.environment = environment;
    this.session = session;
    this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bncheck-onnx-watchdog");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Opens a session with graph optimizations off, so that every node runs as the model states it
   * (a Conv and its BatchNormalization would otherwise be fused). The session runs on every
   * processor: ONNX Runtime's default is the physical cores it detects, and on a virtual machine
   * with two processors it ran ResNet-50 on one thread (1.4 s a batch of 32 instead of 0.77 s on
   * two).
   */
  static OrtRunner open(String file, byte[] model, Duration timeout) {
    return open(file, model, timeout, false);
  }

  /**
   * Opens a session as {@link #open(String, byte[], Duration)} does, with every graph optimization
   * on where {@code optimized}: for a copy whose BN inputs are all graph outputs, which ONNX
   * Runtime keeps as they are (no BN is fused into the node before it), while the rest of the
   * graph gets its faster kernels and layouts (ResNet-50, 8 samples on two threads: 0.22 s against
   * 0.29 s). A model the optimizers cannot take is opened without them.
   */
  static OrtRunner open(String file, byte[] model, Duration timeout, boolean optimized) {
    OrtNatives.prepare();
    // ONNX Runtime logs an error of a run itself, coloured, before bncheck's one line says it with
    // the samples it ran on: only what no exception carries (a fatal error) is left to its log
    OrtEnvironment environment = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, "bncheck");
    if (optimized) {
      try {
        return new OrtRunner(timeout, environment, session(environment, model, OrtSession.SessionOptions.OptLevel.ALL_OPT));
      } catch (OrtException e) {
        // opened below as the model states it, or refused with ONNX Runtime's reason
      }
    }
    try {
      return new OrtRunner(timeout, environment, session(environment, model, OrtSession.SessionOptions.OptLevel.NO_OPT));
    } catch (OrtException e) {
      throw new InvalidInputException(file, "", "ONNX Runtime cannot load the model: " + firstLine(e), e);
    }
  }

  private static OrtSession session(OrtEnvironment environment, byte[] model, OrtSession.SessionOptions.OptLevel level)
      throws OrtException {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setOptimizationLevel(level);
      options.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
      options.setMemoryPatternOptimization(false);
      options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
      return environment.createSession(model, options);
    }
  }

  /**
   * Runs rows {@code [start, start + count)} of every feed and hands each requested output, as
   * a Java tensor, to {@code consumer} in the order asked, one at a time while the result is
   * open; outputs that are not floating-point tensors are handed over as null.
   *
   * @param dataLabel the data's name for messages
   */
  void run(List<OnnxInputs.Feed> feeds, int start, int count, List<String> outputs, String dataLabel,
      BiConsumer<String, Tensor> consumer) {
    run(feeds, start, count, outputs, dataLabel, PinnedOutputs.NONE, consumer);
  }

  /**
   * {@link #run(List, int, int, List, String, BiConsumer) Runs} with the outputs {@code pinned}
   * holds written into its buffers: the consumer must not keep those tensors past its call. A
   * run that refuses the buffers (a shape the one-sample run did not predict) is run again
   * without them, and so are later runs.
   */
  void run(List<OnnxInputs.Feed> feeds, int start, int count, List<String> outputs, String dataLabel,
      PinnedOutputs pinned, BiConsumer<String, Tensor> consumer) {
    List<String> names = distinct(outputs);
    Map<String, OnnxTensor> fed = new LinkedHashMap<>();
    Map<String, OnnxTensor> into = new LinkedHashMap<>();
    AtomicBoolean stopped = new AtomicBoolean();
    boolean ran = false;
    // the watchdog may fire as the run ends: it must not touch the run options once they are closed
    Object lock = new Object();
    boolean[] finished = {false};
    try (OrtSession.RunOptions runOptions = new OrtSession.RunOptions()) {
      for (OnnxInputs.Feed feed : feeds) {
        fed.put(feed.input().name(), slice(feed, start, count));
      }
      for (String name : names) {
        if (pinned.pins(name, count)) {
          into.put(name, pinned.tensor(environment, name, count));
        }
      }
      Set<String> requested = new LinkedHashSet<>(names);
      requested.removeAll(into.keySet());
      ScheduledFuture<?> stop = watchdog.schedule(() -> {
        synchronized (lock) {
          if (finished[0]) {
            return;
          }
          stopped.set(true);
          try {
            runOptions.setTerminate(true);
          } catch (OrtException e) {
            // the run ends by itself; the flag above still reports the time limit
          }
        }
      }, timeout.toMillis(), TimeUnit.MILLISECONDS);
      try (OrtSession.Result result = session.run(fed, requested, into, runOptions)) {
        ran = true;
        for (String name : names) {
          consumer.accept(name, into.containsKey(name) ? pinned.read(name, count)
              : result.get(name).map(OrtRunner::toTensor).orElse(null));
        }
      } finally {
        stop.cancel(false);
        synchronized (lock) {
          finished[0] = true;
        }
      }
    } catch (OrtException e) {
      String samples = samples(feeds, start, count);
      if (stopped.get()) {
        throw new InvalidInputException(dataLabel, samples, "one run of the model took longer than the time limit of "
            + timeout.toSeconds() + " s and was stopped; raise it with --timeout", e);
      }
      if (!ran && !into.isEmpty()) {
        pinned.disable();
        into.values().forEach(OnnxTensor::close);
        into.clear();
        run(feeds, start, count, outputs, dataLabel, pinned, consumer);
        return;
      }
      boolean eachRunsAlone = count > 1
          && FailingSample.eachRunsAlone(start, count, sample -> failureAlone(feeds, sample, outputs, dataLabel));
      throw new InvalidInputException(dataLabel, samples, "the model cannot run on this data"
          + (eachRunsAlone ? " (these samples run together; each runs alone)" : "") + ": " + firstLine(e), e);
    } finally {
      fed.values().forEach(OnnxTensor::close);
      into.values().forEach(OnnxTensor::close);
    }
  }

  /** What stopped the sample's run alone, naming it, or null where it ran. */
  private InvalidInputException failureAlone(List<OnnxInputs.Feed> feeds, int sample, List<String> outputs,
      String dataLabel) {
    try {
      run(feeds, sample, 1, outputs, dataLabel, PinnedOutputs.NONE, (name, tensor) -> {});
      return null;
    } catch (InvalidInputException e) {
      return e;
    }
  }

  /** The samples of a run, as the user finds them in the data ({@link SampleOrder#describe}). */
  static String samples(List<OnnxInputs.Feed> feeds, int start, int count) {
    return SampleOrder.describe(feeds.isEmpty() ? null : feeds.get(0).order(), start, count);
  }

  /**
   * The shape one sample takes in each of {@code outputs}, from a run of the first two samples:
   * for each float32 output whose first dimension is those two samples, its shape with 1 first.
   * Outputs whose first axis is not the samples (the model adds, drops or moves rows) are left
   * out; all are when the model cannot run two samples alone (the batches say why, if they cannot
   * run either).
   */
  Map<String, long[]> perSampleShapes(List<OnnxInputs.Feed> feeds, List<String> outputs, String dataLabel) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    if (outputs.isEmpty()) {
      return shapes;
    }
    try {
      run(feeds, 0, 2, outputs, dataLabel, (name, tensor) -> {
        if (tensor instanceof Tensor.Float32 && precisionOf(name) == Precision.FLOAT32 && tensor.shape().length > 0
            && tensor.shape()[0] == 2) {
          long[] shape = Arrays.stream(tensor.shape()).asLongStream().toArray();
          shape[0] = 1;
          shapes.put(name, shape);
        }
      });
    } catch (InvalidInputException e) {
      return Map.of();
    }
    return shapes;
  }

  /** The samples {@code [start, start + count)} in the feed's order, as the tensor type the input takes. */
  private OnnxTensor slice(OnnxInputs.Feed feed, int start, int count) throws OrtException {
    int[] shape = feed.data().shape();
    long[] dims = new long[shape.length];
    int row = 1;
    for (int i = 1; i < shape.length; i++) {
      dims[i] = shape[i];
      row *= shape[i];
    }
    dims[0] = count;
    int n = count * row;
    Tensor data = feed.data();
    int[] from = new int[count];
    for (int i = 0; i < count; i++) {
      from[i] = feed.row(start + i) * row;
    }
    int width = row;
    IntUnaryOperator at = i -> from[i / width] + i % width;
    switch (feed.input().elemType()) {
      case OnnxProto.DOUBLE -> {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
          v[i] = data.get(at.applyAsInt(i));
        }
        return OnnxTensor.createTensor(environment, DoubleBuffer.wrap(v), dims);
      }
      case OnnxProto.INT32 -> {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
          v[i] = (int) data.get(at.applyAsInt(i));
        }
        return OnnxTensor.createTensor(environment, IntBuffer.wrap(v), dims);
      }
      case OnnxProto.INT64 -> {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
          v[i] = (long) data.get(at.applyAsInt(i));
        }
        return OnnxTensor.createTensor(environment, LongBuffer.wrap(v), dims);
      }
      case OnnxProto.FLOAT16 -> {
        // a half model's input: the data rounded to half, as the model itself would receive it
        ByteBuffer v = ByteBuffer.allocateDirect(2 * n).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
          v.putShort(Float16.fromFloat((float) data.get(at.applyAsInt(i))));
        }
        v.rewind();
        return OnnxTensor.createTensor(environment, v, dims, OnnxJavaType.FLOAT16);
      }
      case OnnxProto.UINT8, OnnxProto.BOOL -> {
        ByteBuffer v = ByteBuffer.allocateDirect(n).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
          v.put((byte) (int) data.get(at.applyAsInt(i)));
        }
        v.rewind();
        return OnnxTensor.createTensor(environment, v, dims,
            feed.input().elemType() == OnnxProto.BOOL ? OnnxJavaType.BOOL : OnnxJavaType.UINT8);
      }
      default -> {
        float[] v = new float[n];
        if (data instanceof Tensor.Float32 f) {
          for (int i = 0; i < count; i++) {
            System.arraycopy(f.data(), from[i], v, i * row, row);
          }
        } else {
          for (int i = 0; i < n; i++) {
            v[i] = (float) data.get(at.applyAsInt(i));
          }
        }
        return OnnxTensor.createTensor(environment, FloatBuffer.wrap(v), dims);
      }
    }
  }

  /** The floating-point format of an output the run hands over (widened to float32 by then). */
  Precision precisionOf(String output) {
    try {
      NodeInfo info = session.getOutputInfo().get(output);
      if (info != null && info.getInfo() instanceof TensorInfo t) {
        return t.type == OnnxJavaType.FLOAT16 ? Precision.FLOAT16
            : t.type == OnnxJavaType.BFLOAT16 ? Precision.BFLOAT16 : Precision.FLOAT32;
      }
      return Precision.FLOAT32;
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime lists no output " + output, e);
    }
  }

  private static Tensor toTensor(OnnxValue value) {
    if (!(value instanceof OnnxTensor t)) {
      return null;
    }
    long[] dims = t.getInfo().getShape();
    int[] shape = new int[dims.length];
    for (int i = 0; i < dims.length; i++) {
      shape[i] = (int) dims[i];
    }
    return switch (t.getInfo().type) {
      case FLOAT, FLOAT16, BFLOAT16 -> {
        // ONNX Runtime widens float16 and bfloat16 to float32 here, into a new heap buffer: its
        // array is this tensor's own, and a second copy (1.35 GB per batch of ResNet-50's BN
        // inputs) would only cost time and heap
        FloatBuffer b = t.getFloatBuffer();
        float[] v;
        if (b.hasArray() && b.arrayOffset() == 0 && b.position() == 0 && b.array().length == b.remaining()) {
          v = b.array();
        } else {
          v = new float[b.remaining()];
          b.get(v);
        }
        yield new Tensor.Float32(shape, v);
      }
      case DOUBLE -> {
        DoubleBuffer b = t.getDoubleBuffer();
        double[] v = new double[b.remaining()];
        b.get(v);
        yield new Tensor.Float64(shape, v);
      }
      default -> null;
    };
  }

  static String firstLine(Exception e) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage();
    return message.lines().findFirst().orElse(message).strip();
  }

  @Override
  public void close() {
    watchdog.shutdownNow();
    try {
      session.close();
    } catch (OrtException e) {
      // nothing is left to release that the process does not release at exit
    }
  }

  /** Names to fetch, without repeats, in order. */
  static List<String> distinct(List<String> names) {
    return new ArrayList<>(new LinkedHashSet<>(names));
  }
}
