package dev.bncheck.samples;

import dev.bncheck.DumpBuilder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Makes the dumps in samples/ by simulating what training does to BN statistics: each layer's
 * activations come from fixed per-channel distributions, and the moving averages are updated
 * from real batches of them (batch mean and Bessel-corrected batch variance, as TensorFlow and
 * PyTorch do) for a given number of steps, starting from 0 and 1. Calibration batches come from
 * the same distributions. Seeds are fixed, so the output is the same on every run.
 */
public final class SampleGenerator {

  private static final int CALIBRATION_BATCHES = 4;

  private SampleGenerator() {}

  /** File name to content, in a fixed order. */
  public static Map<String, String> generate() {
    Map<String, String> samples = new LinkedHashMap<>();
    samples.put("healthy.json", keras("healthy", 0.9, 200, l -> {}));
    samples.put("never-updated.json", keras("never-updated", 0.9, 0, l -> {}));
    samples.put("stale.json", keras("stale", 0.999, 300, l -> {}));
    samples.put("dead-channel.json", keras("dead-channel", 0.9, 200, l -> {
      if (l.name.equals("block2/bn")) {
        l.deadChannel = 5;
      }
    }));
    samples.put("nan-statistics.json", keras("nan-statistics", 0.9, 200, l -> {
      if (l.name.equals("block1/bn")) {
        l.nanChannel = 3;
      }
    }));
    samples.put("pytorch-healthy.json", pytorch());
    return samples;
  }

  private static String keras(String model, double decay, int steps, Consumer<SimulatedLayer> adjust) {
    SimulatedLayer[] layers = {
      new SimulatedLayer("block1/bn", new int[] {8, 6, 6, 16}, 3),
      new SimulatedLayer("block2/bn", new int[] {8, 4, 4, 32}, 3),
      new SimulatedLayer("dense/bn", new int[] {64, 32}, 1),
    };
    DumpBuilder dump = new DumpBuilder().source("framework", "keras").source("model", model)
        .source("generator", "SampleGenerator (simulated training, fixed seeds)");
    long seed = 17;
    for (SimulatedLayer layer : layers) {
      adjust.accept(layer);
      SplittableRandom random = new SplittableRandom(seed++);
      layer.initialise(random);
      layer.train(random, decay, steps);
      DumpBuilder.Layer out = dump.layer(layer.name).channelAxis(-1).epsilon(1e-3).momentum(decay, "keras");
      layer.writeTo(out, random);
    }
    return dump.toJson();
  }

  private static String pytorch() {
    SimulatedLayer[] layers = {
      new SimulatedLayer("layer1.bn", new int[] {8, 16, 6, 6}, 1),
      new SimulatedLayer("layer2.bn", new int[] {8, 32, 4, 4}, 1),
      new SimulatedLayer("fc.bn", new int[] {64, 32}, 1),
    };
    DumpBuilder dump = new DumpBuilder().source("framework", "pytorch").source("model", "pytorch-healthy")
        .source("generator", "SampleGenerator (simulated training, fixed seeds)");
    long seed = 41;
    int steps = 200;
    for (SimulatedLayer layer : layers) {
      SplittableRandom random = new SplittableRandom(seed++);
      layer.initialise(random);
      layer.train(random, 1 - 0.1, steps);
      DumpBuilder.Layer out = dump.layer(layer.name).channelAxis(1).epsilon(1e-5).momentum(0.1, "pytorch")
          .numBatchesTracked(steps);
      layer.writeTo(out, random);
    }
    return dump.toJson();
  }

  /** One layer's activation distribution and the moving statistics training leaves behind. */
  static final class SimulatedLayer {
    final String name;
    final int[] shape;
    final int axis;
    final int channels;
    final int inner;
    int deadChannel = -1;
    int nanChannel = -1;
    double[] mean;
    double[] std;
    float[] gamma;
    float[] beta;
    double[] movingMean;
    double[] movingVariance;

    SimulatedLayer(String name, int[] shape, int axis) {
      this.name = name;
      this.shape = shape;
      this.axis = axis;
      this.channels = shape[axis];
      int in = 1;
      for (int i = axis + 1; i < shape.length; i++) {
        in *= shape[i];
      }
      this.inner = in;
    }

    void initialise(SplittableRandom random) {
      mean = new double[channels];
      std = new double[channels];
      gamma = new float[channels];
      beta = new float[channels];
      for (int c = 0; c < channels; c++) {
        mean[c] = random.nextDouble(-1.5, 2.5);
        std[c] = StrictMath.exp(random.nextDouble(StrictMath.log(0.3), StrictMath.log(2.5)));
        gamma[c] = (float) random.nextDouble(0.5, 1.5);
        beta[c] = (float) (0.3 * random.nextGaussian());
      }
      if (deadChannel >= 0) {
        mean[deadChannel] = 0;
        std[deadChannel] = 0;
      }
    }

    float[] batch(SplittableRandom random) {
      int n = 1;
      for (int d : shape) {
        n *= d;
      }
      float[] x = new float[n];
      for (int i = 0; i < n; i++) {
        int c = (i / inner) % channels;
        x[i] = (float) (mean[c] + std[c] * random.nextGaussian());
      }
      return x;
    }

    /** Keras-convention updates: new = decay * old + (1 - decay) * batch statistic. */
    void train(SplittableRandom random, double decay, int steps) {
      movingMean = new double[channels];
      movingVariance = new double[channels];
      java.util.Arrays.fill(movingVariance, 1.0);
      for (int step = 0; step < steps; step++) {
        float[] x = batch(random);
        double[] sum = new double[channels];
        double[] sumSq = new double[channels];
        long[] count = new long[channels];
        for (int i = 0; i < x.length; i++) {
          int c = (i / inner) % channels;
          sum[c] += x[i];
          count[c]++;
        }
        for (int i = 0; i < x.length; i++) {
          int c = (i / inner) % channels;
          double d = x[i] - sum[c] / count[c];
          sumSq[c] += d * d;
        }
        for (int c = 0; c < channels; c++) {
          double batchMean = sum[c] / count[c];
          double unbiased = sumSq[c] / (count[c] - 1);
          movingMean[c] = decay * movingMean[c] + (1 - decay) * batchMean;
          movingVariance[c] = decay * movingVariance[c] + (1 - decay) * unbiased;
        }
      }
      if (nanChannel >= 0) {
        movingMean[nanChannel] = Double.NaN;
        movingVariance[nanChannel] = Double.NaN;
      }
    }

    void writeTo(DumpBuilder.Layer out, SplittableRandom random) {
      float[] mm = new float[channels];
      float[] mv = new float[channels];
      for (int c = 0; c < channels; c++) {
        mm[c] = (float) movingMean[c];
        mv[c] = (float) movingVariance[c];
      }
      out.gamma(gamma).beta(beta).movingMean(mm).movingVariance(mv);
      for (int b = 0; b < CALIBRATION_BATCHES; b++) {
        out.input(shape, batch(random));
      }
    }
  }
}
