package dev.bncheck.bench;

import dev.bncheck.engine.ChannelMoments;
import dev.bncheck.engine.MomentsKernel;
import dev.bncheck.load.tensorflow.InGraphMomentsSession;
import dev.bncheck.model.BatchMoments;
import dev.bncheck.model.Tensor;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import org.tensorflow.TensorFlow;

/**
 * Per-channel statistics of float32 batches: MomentsKernel against TensorFlow's FusedBatchNormV3
 * in training mode and against a plain read of the same buffer, in GB/s of activations read.
 *
 * <p>The load of this shared machine drifts within seconds (the two-thread kernel read 3.3 GB/s
 * in one run and 9.3 GB/s in the next), so methods measured one after another, as JMH runs
 * them, would compare different machines. Here every round runs each method once, in an order
 * shuffled per round ({@link Rounds#order}), and a ratio is the median over rounds of the ratio
 * within a round.
 */
public final class MomentsBench {

  /** Small batches are repeated within a sample until it reads about this much. */
  private static final long BYTES_PER_SAMPLE = 128L << 20;

  private record Size(String name, int n, int h, int w, int c) {
    int[] nhwc() {
      return new int[] {n, h, w, c};
    }

    int[] nchw() {
      return new int[] {n, c, h, w};
    }

    long bytes() {
      return 4L * n * h * w * c;
    }
  }

  private static final List<Size> SIZES = List.of(
      new Size("small", 64, 8, 8, 64),
      new Size("medium", 64, 28, 28, 128),
      new Size("large", 64, 56, 56, 256));

  /** One thing measured; its result is kept so that the JIT cannot drop the work. */
  private interface Work {
    double run();
  }

  private record Method(String layout, String name, Work work) {}

  private static final String KERNEL = "MomentsKernel";
  private static final String KERNEL_ONE_THREAD = "MomentsKernel, 1 thread";
  private static final String TENSORFLOW = "TF FusedBatchNormV3 (is_training)";
  private static final String IN_GRAPH = "bncheck's in-graph moments (TF ops)";
  private static final String READ = "sequential read, 1 thread";
  private static final String READ_TWO_THREADS = "sequential read, 2 threads";

  private static volatile double sink;

  private MomentsBench() {}

  /** The command line: a wrong one is a one-line usage error, not a stack trace after the build. */
  private record Options(int rounds, int warmup, List<String> sizes) {

    /** Rounds, and warm-up rounds, at most: each round's figures are kept, per method. */
    static final int MOST_ROUNDS = 10_000;

    private static final List<String> NAMES = SIZES.stream().map(Size::name).toList();

    static final String USAGE = "MomentsBench [--rounds N (1 to 10000)] [--warmup N (0 to 10000)] [--sizes small,medium,large]";

    static Options parse(String[] args) {
      int rounds = 21;
      int warmup = 5;
      List<String> sizes = NAMES;
      for (int i = 0; i < args.length; i++) {
        String option = args[i];
        if (!List.of("--rounds", "--warmup", "--sizes").contains(option)) {
          throw new IllegalArgumentException("unknown option " + option);
        }
        if (i + 1 == args.length) {
          throw new IllegalArgumentException(option + " needs a value");
        }
        String value = args[++i];
        switch (option) {
          case "--rounds" -> rounds = count(option, value, 1, MOST_ROUNDS);
          case "--warmup" -> warmup = count(option, value, 0, MOST_ROUNDS);
          default -> sizes = sizes(value);
        }
      }
      return new Options(rounds, warmup, sizes);
    }

    private static int count(String option, String value, int least, int most) {
      try {
        int n = Integer.parseInt(value);
        if (n >= least && n <= most) {
          return n;
        }
      } catch (NumberFormatException e) {
        // the same message as for a number out of range
      }
      throw new IllegalArgumentException(option + " " + value + ": not a whole number from " + least + " to " + most);
    }

    private static List<String> sizes(String value) {
      List<String> sizes = List.of(value.split(",", -1));
      for (String size : sizes) {
        if (!NAMES.contains(size)) {
          throw new IllegalArgumentException("--sizes: no size " + size + " (" + String.join(", ", NAMES) + ")");
        }
      }
      return sizes;
    }
  }

  public static void main(String[] args) {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("MomentsBench: " + e.getMessage() + "; usage: " + Options.USAGE);
      System.exit(2);
      return;
    }
    System.out.printf(Locale.ROOT, "MomentsKernel benchmark, %s%n",
        ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    System.out.printf(Locale.ROOT, "Java %s (%s), %d processors, common pool parallelism %d, max heap %d MB, "
            + "TensorFlow %s%n",
        System.getProperty("java.version"), System.getProperty("java.vm.name"),
        Runtime.getRuntime().availableProcessors(), ForkJoinPool.getCommonPoolParallelism(),
        Runtime.getRuntime().maxMemory() >> 20, TensorFlow.version());
    System.out.printf(Locale.ROOT, "%d rounds after %d warm-up rounds; medians over rounds%n", options.rounds(), options.warmup());
    for (Size size : SIZES) {
      if (options.sizes().contains(size.name())) {
        measure(size, options.rounds(), options.warmup());
      }
    }
  }

  private static void measure(Size size, int rounds, int warmup) {
    float[] data = channelData(size, new SplittableRandom(42));
    Tensor nhwc = new Tensor.Float32(size.nhwc(), data);
    Tensor nchw = new Tensor.Float32(size.nchw(), data);
    // Called from a pool's worker, the kernel forks its parts into that pool: with one worker
    // the same cut and merge run on a single thread.
    ForkJoinPool oneThread = new ForkJoinPool(1);
    try (FusedBatchNormSession tfNhwc = new FusedBatchNormSession(data, longs(size.nhwc()), "NHWC");
        FusedBatchNormSession tfNchw = new FusedBatchNormSession(data, longs(size.nchw()), "NCHW");
        InGraphMomentsSession inGraphNhwc = new InGraphMomentsSession(data, longs(size.nhwc()), 3);
        InGraphMomentsSession inGraphNchw = new InGraphMomentsSession(data, longs(size.nchw()), 1)) {
      List<Method> methods = List.of(
          new Method("NHWC", KERNEL, () -> MomentsKernel.compute(nhwc, 3).mean()[0]),
          new Method("NHWC", KERNEL_ONE_THREAD, () -> oneThread.invoke(kernelTask(nhwc, 3)).mean()[0]),
          new Method("NHWC", TENSORFLOW, tfNhwc::run),
          new Method("NHWC", IN_GRAPH, () -> inGraphNhwc.run().mean()[0]),
          new Method("NCHW", KERNEL, () -> MomentsKernel.compute(nchw, 1).mean()[0]),
          new Method("NCHW", KERNEL_ONE_THREAD, () -> oneThread.invoke(kernelTask(nchw, 1)).mean()[0]),
          new Method("NCHW", TENSORFLOW, tfNchw::run),
          new Method("NCHW", IN_GRAPH, () -> inGraphNchw.run().mean()[0]),
          new Method("-", READ, () -> SequentialRead.sum(data, 0, data.length)),
          new Method("-", READ_TWO_THREADS, () -> SequentialRead.sumTwoThreads(data)));
      int reps = (int) Math.max(1, BYTES_PER_SAMPLE / size.bytes());
      System.out.printf(Locale.ROOT, "%n### %s: float32 NHWC %s / NCHW %s, %.1f MB, %d run(s) per sample%n%n",
          size.name(), Arrays.toString(size.nhwc()), Arrays.toString(size.nchw()), size.bytes() / 1e6, reps);
      System.out.println(agreement(nhwc, tfNhwc, inGraphNhwc));
      System.out.println(offsetAgreement(size));
      double[][] gbps = run(methods, size.bytes(), reps, rounds, warmup);
      report(methods, gbps);
    } finally {
      oneThread.shutdown();
    }
  }

  private static ForkJoinTask<ChannelMoments> kernelTask(Tensor batch, int axis) {
    return ForkJoinTask.adapt(() -> MomentsKernel.compute(batch, axis));
  }

  /** GB/s of each method in each round. */
  private static double[][] run(List<Method> methods, long bytes, int reps, int rounds, int warmup) {
    int m = methods.size();
    double[][] gbps = new double[m][rounds];
    for (int round = -warmup; round < rounds; round++) {
      int[] order = Rounds.order(m, round);
      for (int k = 0; k < m; k++) {
        int i = order[k];
        Work work = methods.get(i).work();
        double kept = 0;
        long start = System.nanoTime();
        for (int r = 0; r < reps; r++) {
          kept += work.run();
        }
        long elapsed = System.nanoTime() - start;
        sink += kept;
        if (round >= 0) {
          gbps[i][round] = bytes * (double) reps / elapsed;
        }
      }
    }
    return gbps;
  }

  private static void report(List<Method> methods, double[][] gbps) {
    int rounds = gbps[0].length;
    double[] ceiling = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      ceiling[r] = Math.max(gbps[indexOf(methods, "-", READ)][r], gbps[indexOf(methods, "-", READ_TWO_THREADS)][r]);
    }
    System.out.println();
    System.out.println("| layout | method | GB/s median | GB/s q1-q3 | vs TF FusedBatchNormV3 | vs sequential read |");
    System.out.println("|---|---|---:|---:|---:|---:|");
    for (int i = 0; i < methods.size(); i++) {
      Method method = methods.get(i);
      String vsTf = "-";
      if (!method.layout().equals("-")) {
        vsTf = String.format(Locale.ROOT, "%.2f", medianRatio(gbps[i], gbps[indexOf(methods, method.layout(), TENSORFLOW)]));
      }
      double[] sorted = gbps[i].clone();
      Arrays.sort(sorted);
      System.out.printf(Locale.ROOT, "| %s | %s | %.2f | %.2f-%.2f | %s | %.2f |%n", method.layout(), method.name(),
          quantile(sorted, 0.5), quantile(sorted, 0.25), quantile(sorted, 0.75), vsTf, medianRatio(gbps[i], ceiling));
    }
    System.out.println();
    for (String layout : List.of("NHWC", "NCHW")) {
      double[] kernel = gbps[indexOf(methods, layout, KERNEL)];
      double vsTf = medianRatio(kernel, gbps[indexOf(methods, layout, TENSORFLOW)]);
      double vsRead = medianRatio(kernel, ceiling);
      System.out.printf(Locale.ROOT, "%s targets: %.2fx TF FusedBatchNormV3 (at least 1: %s), %.2fx the sequential read "
          + "(at least 0.7: %s)%n", layout, vsTf, vsTf >= 1 ? "met" : "MISSED", vsRead, vsRead >= 0.7 ? "met" : "MISSED");
      double inGraph = medianRatio(gbps[indexOf(methods, layout, IN_GRAPH)], gbps[indexOf(methods, layout, TENSORFLOW)]);
      System.out.printf(Locale.ROOT, "%s in-graph moments (TensorFlow models): %.2fx TF FusedBatchNormV3%n", layout,
          inGraph);
    }
  }

  /** That both compute the same statistics: TensorFlow's batch mean and variance against the kernel's. */
  private static String agreement(Tensor nhwc, FusedBatchNormSession tf, InGraphMomentsSession inGraph) {
    ChannelMoments kernel = MomentsKernel.compute(nhwc, 3);
    FusedBatchNormSession.Statistics theirs = tf.statistics();
    BatchMoments ours = inGraph.run();
    double mean = 0;
    double variance = 0;
    double inGraphMean = 0;
    double inGraphVariance = 0;
    for (int c = 0; c < kernel.channels(); c++) {
      double std = Math.sqrt(kernel.biasedVariance(c));
      mean = Math.max(mean, Math.abs(theirs.mean()[c] - kernel.mean()[c]) / (Math.abs(kernel.mean()[c]) + std));
      variance = Math.max(variance, Math.abs(theirs.variance()[c] - kernel.unbiasedVariance(c)) / kernel.unbiasedVariance(c));
      inGraphMean = Math.max(inGraphMean, Math.abs(ours.mean()[c] - kernel.mean()[c]) / (Math.abs(kernel.mean()[c]) + std));
      inGraphVariance = Math.max(inGraphVariance, Math.abs(ours.m2()[c] / kernel.m2()[c] - 1));
    }
    return String.format(Locale.ROOT, "Same statistics (NHWC): %s batch_mean within %.1e of |mean| + std of the "
        + "kernel's, batch_variance within %.1e (relative) of its unbiased variance; the in-graph moments within "
        + "%.1e and %.1e", tf.opType(), mean, variance, inGraphMean, inGraphVariance);
  }

  /**
   * The same comparison on channels far from zero against their spread (channel c has mean
   * 5 (c + 1) and standard deviation 1), as on raw pixels or offset activations: TensorFlow's
   * kernel accumulates in float32 over the whole batch.
   */
  private static String offsetAgreement(Size size) {
    SplittableRandom random = new SplittableRandom(7);
    float[] data = new float[(int) (size.bytes() / 4)];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) (5.0 * (i % size.c() + 1) + random.nextGaussian());
    }
    Tensor nhwc = new Tensor.Float32(size.nhwc(), data);
    ChannelMoments kernel = MomentsKernel.compute(nhwc, 3);
    try (FusedBatchNormSession tf = new FusedBatchNormSession(data, longs(size.nhwc()), "NHWC");
        InGraphMomentsSession inGraph = new InGraphMomentsSession(data, longs(size.nhwc()), 3)) {
      FusedBatchNormSession.Statistics theirs = tf.statistics();
      BatchMoments ours = inGraph.runAsBncheck();
      double tfMean = 0;
      double tfVariance = 0;
      double oursMean = 0;
      double oursVariance = 0;
      for (int c = 0; c < kernel.channels(); c++) {
        double std = Math.sqrt(kernel.biasedVariance(c));
        tfMean = Math.max(tfMean, Math.abs(theirs.mean()[c] - kernel.mean()[c]) / std);
        tfVariance = Math.max(tfVariance, Math.abs(theirs.variance()[c] / kernel.unbiasedVariance(c) - 1));
        oursMean = Math.max(oursMean, Math.abs(ours.mean()[c] - kernel.mean()[c]) / std);
        oursVariance = Math.max(oursVariance, Math.abs(ours.m2()[c] / kernel.m2()[c] - 1));
      }
      return String.format(Locale.ROOT, "Channels offset to mean 5 (c + 1), std 1: %s batch_mean off by up to %.1e std,"
          + " batch_variance by %.1e (relative); bncheck's in-graph moments by %.1e std and %.1e", tf.opType(), tfMean,
          tfVariance, oursMean, oursVariance);
    }
  }

  /** Channel c of the NHWC batch has mean (c % 7) - 3 and standard deviation 0.5 + (c % 4) / 4. */
  private static float[] channelData(Size size, SplittableRandom random) {
    float[] data = new float[(int) (size.bytes() / 4)];
    for (int i = 0; i < data.length; i++) {
      int c = i % size.c();
      data[i] = (float) ((c % 7) - 3 + (0.5 + (c % 4) / 4.0) * random.nextGaussian());
    }
    return data;
  }

  private static double medianRatio(double[] a, double[] b) {
    double[] ratio = new double[a.length];
    for (int r = 0; r < a.length; r++) {
      ratio[r] = a[r] / b[r];
    }
    Arrays.sort(ratio);
    return quantile(ratio, 0.5);
  }

  /** Linear interpolation between the closest ranks of sorted values. */
  private static double quantile(double[] sorted, double q) {
    double at = q * (sorted.length - 1);
    int below = (int) Math.floor(at);
    int above = Math.min(sorted.length - 1, below + 1);
    return sorted[below] + (at - below) * (sorted[above] - sorted[below]);
  }

  private static int indexOf(List<Method> methods, String layout, String name) {
    for (int i = 0; i < methods.size(); i++) {
      if (methods.get(i).layout().equals(layout) && methods.get(i).name().equals(name)) {
        return i;
      }
    }
    throw new IllegalArgumentException(layout + " " + name);
  }

  private static long[] longs(int[] shape) {
    return Arrays.stream(shape).asLongStream().toArray();
  }
}
