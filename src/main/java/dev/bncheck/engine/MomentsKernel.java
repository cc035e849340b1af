package dev.bncheck.engine;

import dev.bncheck.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveTask;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Per-channel moments of one batch, computed over the raw array.
 *
 * <p>ND4J's general multi-axis reductions ran at a tenth of TensorFlow's speed on NHWC
 * activations, so this loop reads the buffer once, viewed as {@code [outer, channels, inner]}
 * for any rank and channel axis. It accumulates in double around a per-channel shift (the
 * channel's first value in the part being reduced), which keeps the one-pass sum of squares
 * stable when the mean is large against the spread. Non-finite values are rare and only checked
 * for when a channel's result is not finite; that channel is then reduced again without them.
 *
 * <p>A large batch is cut into parts along the values of each channel, reduced in parallel and
 * merged exactly (Chan et al.) in part order. The cut depends only on the shape, never on the
 * number of cores or on which thread ran which part, so a batch gives the same bits on every
 * run and machine; it differs from the one-part result only by rounding. The parts run on a pool
 * of one thread per processor, or on the caller's pool when called from a fork-join task.
 */
public final class MomentsKernel {

  /**
   * Values per part. A part of 4 MB of float32 takes about a millisecond, far more than handing
   * it to another thread costs, and batches of at most this size stay on the calling thread.
   */
  static final int PART_ELEMENTS = 1 << 20;

  /**
   * Lanes the deviations of channels-last batches are summed in: at least this many values of a
   * row or of consecutive rows, each lane a channel. The lanes, not the CPU's vector width, fix
   * the order of the additions, so both paths give the same bits on every machine.
   */
  private static final int LANES = 128;

  /**
   * The common pool has one thread fewer than there are processors (none on two), so a batch
   * reduced from an ordinary thread ran on about one core. Created on first use, so that a run
   * that reduces nothing starts no threads; its threads are daemons and end when idle.
   */
  private static final class Workers {
    static final ForkJoinPool POOL = new ForkJoinPool(Runtime.getRuntime().availableProcessors(), pool -> {
      ForkJoinWorkerThread thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
      thread.setName("bncheck-moments-" + thread.getPoolIndex());
      return thread;
    }, null, false);
  }

  /**
   * The Vector API loops when {@code jdk.incubator.vector} is in the boot layer (the launchers add
   * it) and the CPU's vectors suit them. They are loaded by name, because their class is compiled
   * against the incubating module, which the other sources must not need.
   */
  private static final Optional<WideningDeviations> VECTOR_WIDENING = vectorWidening();

  /** Rounds of {@link #warmUp}: enough for the optimizing compiler to take over the loops on a 2-core machine. */
  private static final int WARM_UP_ROUNDS = 300;

  private static final AtomicBoolean WARMING = new AtomicBoolean();

  private MomentsKernel() {}

  /**
   * Runs the vector loops on small batches in a daemon thread, once per process, so that the
   * JIT's optimizing compiler has compiled them when the first large batch comes: until then the
   * Vector API runs its vectors as objects. The first 8 samples of a ResNet-50's BN inputs took
   * 1.25 s to reduce instead of 0.06; warmed up while ONNX Runtime loaded the model, 0.24 s.
   * Does nothing where the loops are scalar.
   */
  public static void warmUpInBackground() {
    if (!widensInVectors() || !WARMING.compareAndSet(false, true)) {
      return;
    }
    Thread thread = new Thread(MomentsKernel::warmUp, "bncheck-moments-warm-up");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Reduces a small NCHW and NHWC batch, in an array and in native memory, on the calling thread,
   * until the loops are compiled.
   */
  static void warmUp() {
    int[] first = {4, 16, 32, 32};
    int[] last = {4, 32, 32, 16};
    int size = 4 * 16 * 32 * 32;
    ByteBuffer zeros = ByteBuffer.allocateDirect(size * Float.BYTES).order(ByteOrder.nativeOrder());
    List<Tensor> channelsFirst = List.of(new Tensor.Float32(first, new float[size]), new Tensor.NativeFloat32(first, zeros));
    List<Tensor> channelsLast = List.of(new Tensor.Float32(last, new float[size]), new Tensor.NativeFloat32(last, zeros));
    for (int i = 0; i < WARM_UP_ROUNDS; i++) {
      compute(channelsFirst.get(i % 2), 1);
      if (i % 3 == 0) {
        compute(channelsLast.get(i / 3 % 2), 3);
      }
    }
  }

  private static Optional<WideningDeviations> vectorWidening() {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      return Optional.empty();
    }
    try {
      Optional<?> loops = (Optional<?>) Class.forName("dev.bncheck.engine.VectorWideningDeviations")
          .getDeclaredMethod("whereProfitable")
          .invoke(null);
      return loops.map(WideningDeviations.class::cast);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("the Vector API loops of the moments kernel are missing from the build", e);
    }
  }

  /** Whether float32 values are widened a vector at a time, on the Vector API. */
  static boolean widensInVectors() {
    return VECTOR_WIDENING.isPresent();
  }

  /** The loops for rows of at most {@code width} float32 values, and runs of any length. */
  static WideningDeviations wideningDeviations(int width) {
    return VECTOR_WIDENING.orElseGet(() -> new ScalarWideningDeviations(width));
  }

  public static ChannelMoments compute(Tensor batch, int channelAxis) {
    return compute(batch, channelAxis, parts(batch.shape(), channelAxis));
  }

  /** How many parts {@link #compute(Tensor, int)} cuts a batch of this shape into. */
  static int parts(int[] shape, int channelAxis) {
    Layout layout = Layout.of(shape, channelAxis);
    return parts(layout.positions, layout.channels);
  }

  /** The moments merged from {@code parts} shares of each channel's values, as even as rows allow. */
  static ChannelMoments compute(Tensor batch, int channelAxis, int parts) {
    Layout layout = Layout.of(batch.shape(), channelAxis);
    return reduceInParts(batch, layout, 0, layout.positions, parts);
  }

  /**
   * The moments of consecutive groups of {@code samplesPerGroup} samples along the first axis,
   * each reduced as {@link #compute(Tensor, int)} reduces a batch of that size; a last group of
   * fewer samples, if any, comes last. Merged, they are the batch's moments up to rounding: a
   * batch cut into groups costs no extra read.
   */
  public static List<ChannelMoments> computeGroups(Tensor batch, int channelAxis, int samplesPerGroup) {
    int[] shape = batch.shape();
    if (channelAxis == 0 || shape[0] == 0 || samplesPerGroup < 1) {
      throw new IllegalArgumentException("groups need a sample axis before the channel axis and a positive size");
    }
    Layout layout = Layout.of(shape, channelAxis);
    int perSample = layout.positions / shape[0];
    List<ChannelMoments> groups = new ArrayList<>();
    for (int first = 0; first < shape[0]; first += samplesPerGroup) {
      int from = first * perSample;
      int to = Math.min(shape[0], first + samplesPerGroup) * perSample;
      groups.add(reduceInParts(batch, layout, from, to, parts(to - from, layout.channels)));
    }
    return groups;
  }

  /** Parts of at most about {@link #PART_ELEMENTS} values, and never more parts than positions. */
  private static int parts(long positions, int channels) {
    long size = positions * channels;
    return (int) Math.max(1, Math.min(positions, (size + PART_ELEMENTS - 1) / PART_ELEMENTS));
  }

  /** The moments of positions [from, to), merged from {@code parts} shares, as even as rows allow. */
  private static ChannelMoments reduceInParts(Tensor batch, Layout layout, int from, int to, int parts) {
    if (parts == 1) {
      return reduce(batch, layout, from, to);
    }
    List<RecursiveTask<ChannelMoments>> tasks = new ArrayList<>(parts);
    // Cutting between rows keeps each part's reads of a channel in whole runs: cuts inside the
    // rows left every part a short piece of each channel's run and cost 17% on NCHW
    // [64,256,56,56]. Only when there are fewer rows than parts do the cuts fall inside them.
    int unit = (to - from) / layout.inner >= parts ? layout.inner : 1;
    long units = (long) (to - from) / unit;
    for (int p = 0; p < parts; p++) {
      int start = from + (int) (units * p / parts) * unit;
      int end = from + (int) (units * (p + 1) / parts) * unit;
      tasks.add(new RecursiveTask<>() {
        @Override
        protected ChannelMoments compute() {
          return reduce(batch, layout, start, end);
        }
      });
    }
    if (ForkJoinTask.inForkJoinPool()) {
      ForkJoinTask.invokeAll(tasks);
    } else {
      Workers.POOL.invoke(ForkJoinTask.adapt(() -> ForkJoinTask.invokeAll(tasks)));
    }
    ChannelMoments merged = tasks.get(0).join();
    for (int p = 1; p < parts; p++) {
      merged = merged.merge(tasks.get(p).join());
    }
    return merged;
  }

  /**
   * The batch as {@code [outer, channels, inner]}. A position is one value of every channel,
   * numbered {@code outer index * inner + inner index}; parts are ranges of positions.
   */
  private record Layout(int outer, int channels, int inner, int positions) {

    static Layout of(int[] shape, int channelAxis) {
      long outer = 1;
      for (int i = 0; i < channelAxis; i++) {
        outer *= shape[i];
      }
      long inner = 1;
      for (int i = channelAxis + 1; i < shape.length; i++) {
        inner *= shape[i];
      }
      return new Layout((int) outer, shape[channelAxis], (int) inner, (int) (outer * inner));
    }

    int index(int position, int channel) {
      int o = position / inner;
      return (o * channels + channel) * inner + position % inner;
    }
  }

  /** The moments of positions [from, to) of every channel. */
  private static ChannelMoments reduce(Tensor batch, Layout layout, int from, int to) {
    int channels = layout.channels;
    if (from == to) {
      return ChannelMoments.empty(channels);
    }
    double[] shift = new double[channels];
    for (int c = 0; c < channels; c++) {
      double first = batch.get(layout.index(from, c));
      shift[c] = Double.isFinite(first) ? first : 0.0;
    }
    double[] sum = new double[channels];
    double[] sumSq = new double[channels];
    if (layout.inner == 1) {
      accumulateChannelsLast(batch, channels, from, to, shift, sum, sumSq);
    } else {
      accumulateChannelsFirst(batch, layout, from, to, shift, sum, sumSq);
    }
    long n = (long) to - from;
    long[] count = new long[channels];
    double[] mean = new double[channels];
    double[] m2 = new double[channels];
    long[] nonFinite = new long[channels];
    for (int c = 0; c < channels; c++) {
      count[c] = n;
      mean[c] = shift[c] + sum[c] / n;
      m2[c] = Math.max(0.0, sumSq[c] - sum[c] * sum[c] / n);
      if (!Double.isFinite(mean[c]) || !Double.isFinite(m2[c])) {
        reduceFiniteOnly(batch, layout, from, to, c, count, mean, m2, nonFinite);
      }
    }
    return new ChannelMoments(count, mean, m2, nonFinite);
  }

  /**
   * Channels are the last axis: each row of {@code channels} values adds one value to each.
   * Several rows are taken at once when channels are few, each lane accumulating one channel of
   * one of those rows, so that the vectorized loop runs long enough to pay off. A lane gets its
   * values in row order, and the lanes are added to their channel in lane order.
   */
  private static void accumulateChannelsLast(
      Tensor batch, int channels, int from, int to, double[] shift, double[] sum, double[] sumSq) {
    int rowsAtOnce = Math.max(1, LANES / channels);
    int width = rowsAtOnce * channels;
    double[] laneShift = new double[width];
    for (int j = 0; j < width; j++) {
      laneShift[j] = shift[j % channels];
    }
    double[] laneSum = new double[width];
    double[] laneSq = new double[width];
    int wholeRows = (to - from) / rowsAtOnce;
    int restStart = from + wholeRows * rowsAtOnce;
    int rest = (to - restStart) * channels;
    if (batch instanceof Tensor.Float32 f) {
      addFloatRows(f.data(), from * channels, wholeRows, laneShift, laneSum, laneSq, width);
      if (rest > 0) {
        addFloatRows(f.data(), restStart * channels, 1, laneShift, laneSum, laneSq, rest);
      }
    } else if (batch instanceof Tensor.NativeFloat32 n) {
      addFloatRows(n.data(), from * channels, wholeRows, laneShift, laneSum, laneSq, width);
      if (rest > 0) {
        addFloatRows(n.data(), restStart * channels, 1, laneShift, laneSum, laneSq, rest);
      }
    } else {
      double[] x = ((Tensor.Float64) batch).data();
      double[] buffer = new double[width];
      for (int o = from; o < to; o += rowsAtOnce) {
        int length = Math.min(rowsAtOnce, to - o) * channels;
        System.arraycopy(x, o * channels, buffer, 0, length);
        ScalarWideningDeviations.addLanes(buffer, laneShift, laneSum, laneSq, length);
      }
    }
    for (int j = 0; j < width; j++) {
      sum[j % channels] += laneSum[j];
      sumSq[j % channels] += laneSq[j];
    }
  }

  /**
   * A method of its own, so that the JIT compiles the row loop apart from the lanes' set-up and
   * folding around it: inlined into {@link #accumulateChannelsLast}, the loop read NHWC
   * [64,56,56,256] at about 12 GB/s on one thread on AMD EPYC, against 17 apart (issue #19).
   */
  private static void addFloatRows(
      float[] x, int from, int rows, double[] laneShift, double[] laneSum, double[] laneSq, int width) {
    wideningDeviations(width).addRows(x, from, rows, laneShift, laneSum, laneSq, width);
  }

  /** {@link #addFloatRows(float[], int, int, double[], double[], double[], int)} on a buffer in native memory. */
  private static void addFloatRows(
      ByteBuffer x, int from, int rows, double[] laneShift, double[] laneSum, double[] laneSq, int width) {
    wideningDeviations(width).addRows(x, from, rows, laneShift, laneSum, laneSq, width);
  }

  /**
   * Channels come before other axes: each channel's values lie in runs of up to {@code inner},
   * one run of every channel per outer index. Value t of a run goes to accumulator
   * t % {@link WideningDeviations#RUN_ACCUMULATORS}, so that the vectorized loop carries no
   * dependency from one value to the next; the accumulators are added in their order at the end
   * of the run, and the run's sums to the channel's.
   */
  private static void accumulateChannelsFirst(
      Tensor batch, Layout layout, int from, int to, double[] shift, double[] sum, double[] sumSq) {
    int inner = layout.inner;
    for (int o = from / inner, last = (to - 1) / inner; o <= last; o++) {
      int start = Math.max(from - o * inner, 0);
      int end = Math.min(to - o * inner, inner);
      int base = o * layout.channels * inner + start;
      if (batch instanceof Tensor.Float32 f) {
        wideningDeviations(0).addRuns(f.data(), base, layout.channels, inner, end - start, shift, sum, sumSq);
      } else if (batch instanceof Tensor.NativeFloat32 n) {
        wideningDeviations(0).addRuns(n.data(), base, layout.channels, inner, end - start, shift, sum, sumSq);
      } else {
        ScalarWideningDeviations.addRuns(
            ((Tensor.Float64) batch).data(), base, layout.channels, inner, end - start, shift, sum, sumSq);
      }
    }
  }

  /** Two-pass reduction of one channel over the finite values among positions [from, to). */
  private static void reduceFiniteOnly(
      Tensor batch, Layout layout, int from, int to, int c,
      long[] count, double[] mean, double[] m2, long[] nonFinite) {
    long n = 0;
    long bad = 0;
    double total = 0;
    for (int p = from; p < to; p++) {
      double v = batch.get(layout.index(p, c));
      if (Double.isFinite(v)) {
        n++;
        total += v;
      } else {
        bad++;
      }
    }
    double mu = n == 0 ? Double.NaN : total / n;
    double sq = 0;
    for (int p = from; p < to; p++) {
      double v = batch.get(layout.index(p, c));
      if (Double.isFinite(v)) {
        sq += (v - mu) * (v - mu);
      }
    }
    count[c] = n;
    mean[c] = n == 0 ? 0.0 : mu;
    m2[c] = sq;
    nonFinite[c] = bad;
  }
}
