package dev.bncheck.repair;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.array.DistinctSamples;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A dump's activations split by sample, as {@link DataSplit} splits a model's inputs: each layer's
 * samples, numbered in the order the dump holds them, go to the held-out part at the positions
 * DataSplit holds out of that many samples, in the same fixed shuffled order. Layers that hold the
 * same number of samples (activations of one forward pass) thus hold out the same samples. The
 * dump is read twice, once to count each layer's samples and once to split them, so that memory
 * holds one batch at a time, as for {@code check}.
 *
 * @param calibration the samples the statistics are computed on
 * @param heldOut the samples the result is checked on (all samples, when none is held out)
 * @param layers each layer's sample counts, by layer position
 */
public record DumpSplit(CalibrationAccumulator calibration, CalibrationAccumulator heldOut,
    Map<Integer, Samples> layers) {

  /**
   * One layer's samples.
   *
   * @param distinctCalibration the distinct ones among the calibration samples (repeated samples count once)
   */
  public record Samples(int calibration, long distinctCalibration, int heldOut) {}

  /** @param read feeds the dump's activations to the sink it is given; called twice */
  public static DumpSplit of(Consumer<CalibrationSink> read, double heldOutFraction) {
    Map<Integer, Integer> counts = new HashMap<>();
    read.accept(new Sink((layer, batch) -> counts.merge(layer, batch.shape()[0], Integer::sum)));
    Map<Integer, Router> routers = new HashMap<>();
    counts.forEach((layer, n) -> routers.put(layer, new Router(n, heldOutFraction)));
    CalibrationAccumulator calibration = new CalibrationAccumulator();
    CalibrationAccumulator heldOut = new CalibrationAccumulator();
    read.accept(new Sink((layer, batch) -> routers.get(layer).route(layer, batch, calibration, heldOut)));
    Map<Integer, Samples> layers = new HashMap<>();
    routers.forEach((layer, r) -> layers.put(layer, new Samples(r.calibrationSamples, r.distinct.size(),
        r.heldOutSamples)));
    return new DumpSplit(calibration, heldOut, Map.copyOf(layers));
  }

  /** Receives each batch of a layer. */
  private interface BatchConsumer {
    void accept(int layer, Batch batch);
  }

  /** A batch with its channel axis, which the accumulators need. */
  private record Batch(Tensor tensor, int channelAxis) {
    int[] shape() {
      return tensor.shape();
    }
  }

  private static final class Sink implements CalibrationSink {
    private final BatchConsumer consumer;

    Sink(BatchConsumer consumer) {
      this.consumer = consumer;
    }

    @Override
    public boolean wantsActivations() {
      return true;
    }

    @Override
    public void accept(int layerIndex, Tensor batch, int channelAxis) {
      consumer.accept(layerIndex, new Batch(batch, channelAxis));
    }
  }

  /** Sends each sample of one layer to its part; the batch axis comes first in a dump. */
  private static final class Router {
    final boolean[] toCalibration;
    final boolean[] toHeldOut;
    final Set<Long> distinct = new HashSet<>();
    int seen;
    int calibrationSamples;
    int heldOutSamples;

    Router(int samples, double heldOutFraction) {
      double[] index = new double[samples];
      for (int i = 0; i < samples; i++) {
        index[i] = i;
      }
      DataSplit positions = DataSplit.of(Map.of("", new Tensor.Float64(new int[] {samples}, index)), heldOutFraction);
      toCalibration = marked(positions.calibration().get(""), samples);
      toHeldOut = marked(positions.heldOut().get(""), samples);
    }

    private static boolean[] marked(Tensor indices, int samples) {
      boolean[] out = new boolean[samples];
      for (int i = 0; i < indices.size(); i++) {
        out[(int) indices.get(i)] = true;
      }
      return out;
    }

    void route(int layer, Batch batch, CalibrationAccumulator calibration, CalibrationAccumulator heldOut) {
      int rows = batch.shape()[0];
      int[] mine = selected(toCalibration, rows);
      int[] held = selected(toHeldOut, rows);
      for (int r : mine) {
        distinct.add(DistinctSamples.fingerprint(batch.tensor(), r, rows));
      }
      calibrationSamples += mine.length;
      heldOutSamples += held.length;
      if (mine.length > 0) {
        calibration.accept(layer, rows(batch.tensor(), mine), batch.channelAxis());
      }
      if (held.length > 0) {
        heldOut.accept(layer, rows(batch.tensor(), held), batch.channelAxis());
      }
      seen += rows;
    }

    private int[] selected(boolean[] part, int rows) {
      int[] out = new int[rows];
      int n = 0;
      for (int r = 0; r < rows; r++) {
        if (part[seen + r]) {
          out[n++] = r;
        }
      }
      return Arrays.copyOf(out, n);
    }

    private static Tensor rows(Tensor t, int[] rows) {
      int[] shape = t.shape().clone();
      int row = t.size() / shape[0];
      shape[0] = rows.length;
      if (t instanceof Tensor.Float32 f) {
        float[] out = new float[rows.length * row];
        for (int i = 0; i < rows.length; i++) {
          System.arraycopy(f.data(), rows[i] * row, out, i * row, row);
        }
        return new Tensor.Float32(shape, out);
      }
      double[] in = ((Tensor.Float64) t).data();
      double[] out = new double[rows.length * row];
      for (int i = 0; i < rows.length; i++) {
        System.arraycopy(in, rows[i] * row, out, i * row, row);
      }
      return new Tensor.Float64(shape, out);
    }
  }
}
