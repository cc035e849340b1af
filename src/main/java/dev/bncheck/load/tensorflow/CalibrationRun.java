package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/**
 * Runs calibration batches through a model and streams, for every layer, the tensor that
 * reaches it and TensorFlow's own output of its node. One batch of activations is in memory at
 * a time.
 */
final class CalibrationRun {

  /**
   * What to fetch for one layer.
   *
   * @param trainingViewInput the layer's input when every BN layer runs in training mode, or null
   *     where the graph cannot be run that way
   */
  record Capture(int layerIndex, BnLayer layer, String input, String output, boolean trainingMode,
      String trainingViewInput) {}

  /** One model input: where to feed it, its data, and whether the graph wants float64. */
  record Feed(List<String> graphTensors, Tensor data, boolean float64) {}

  private CalibrationRun() {}

  static void run(Session session, List<Feed> feeds, List<Capture> captures, int batchSize, long maxSamples,
      CalibrationSink sink, String dataLabel) {
    long samples = Math.min(maxSamples, feeds.get(0).data().shape()[0]);
    long batches = (samples + batchSize - 1) / batchSize;
    for (long start = 0; start < samples; start += batchSize) {
      sink.progress("calibration batches", start / batchSize, batches);
      int count = (int) Math.min(batchSize, samples - start);
      List<org.tensorflow.Tensor> fed = new ArrayList<>();
      try {
        Session.Runner runner = session.runner();
        for (Feed feed : feeds) {
          org.tensorflow.Tensor t = slice(feed.data(), (int) start, count, feed.float64());
          fed.add(t);
          for (String name : feed.graphTensors()) {
            runner.feed(name, t);
          }
        }
        // TensorFlow's own outputs are compared on the first batch only: one batch exercises every
        // channel, and copying every layer's output out of the graph for all batches would
        // double what each batch moves.
        boolean selfCheck = start == 0;
        List<Integer> positions = new ArrayList<>();
        int fetched = 0;
        for (Capture c : captures) {
          positions.add(fetched);
          runner.fetch(c.input());
          fetched++;
          if (selfCheck) {
            runner.fetch(c.output());
            fetched++;
          }
          if (c.trainingViewInput() != null) {
            runner.fetch(c.trainingViewInput());
            fetched++;
          }
        }
        try (Result result = runner.run()) {
          for (int i = 0; i < captures.size(); i++) {
            Capture c = captures.get(i);
            int at = positions.get(i);
            Tensor input = toTensor(result.get(at));
            int axis = c.layer().resolveChannelAxis(input.shape().length);
            if (axis < 0 || input.shape()[axis] != c.layer().channels()) {
              throw new IllegalStateException("layer " + c.layer().name() + ": captured input "
                  + Arrays.toString(input.shape()) + " does not have " + c.layer().channels()
                  + " channels on axis " + c.layer().channelAxis());
            }
            sink.accept(c.layerIndex(), input, axis);
            int next = at + 1;
            if (selfCheck) {
              sink.frameworkOutput(c.layerIndex(), c.layer(), input, toTensor(result.get(next++)), axis,
                  c.trainingMode());
            }
            if (c.trainingViewInput() != null) {
              sink.acceptTrainingView(c.layerIndex(), toTensor(result.get(next)), axis);
            }
          }
        }
      } catch (org.tensorflow.exceptions.TensorFlowException e) {
        throw new InvalidInputException(dataLabel, "samples " + start + " to " + (start + count - 1),
            "the model cannot run on this data: " + TensorFlowRuntime.firstLine(e.getMessage()), e);
      } finally {
        fed.forEach(org.tensorflow.Tensor::close);
      }
    }
  }

  /** Samples also run alone: enough to show batch dependence, few enough to stay cheap. */
  static final int SINGLE_SAMPLES = 8;

  /**
   * Runs the first batch, then its first samples one at a time, and reports per output how much
   * a sample's result changes with the batch around it.
   */
  static void batchSizeConsistency(Session session, List<Feed> feeds, List<ModelRunner.Input> outputs, int batchSize,
      CalibrationSink sink, String dataLabel) {
    int count = (int) Math.min(batchSize, feeds.get(0).data().shape()[0]);
    if (count < 2 || outputs.isEmpty()) {
      return;
    }
    List<Tensor> batched = runOutputs(session, feeds, outputs, 0, count, dataLabel);
    int singles = Math.min(count, SINGLE_SAMPLES);
    double[] max = new double[outputs.size()];
    int[] worst = new int[outputs.size()];
    for (int sample = 0; sample < singles; sample++) {
      List<Tensor> alone = runOutputs(session, feeds, outputs, sample, 1, dataLabel);
      for (int o = 0; o < outputs.size(); o++) {
        int row = alone.get(o).size();
        for (int i = 0; i < row; i++) {
          double d = Math.abs(alone.get(o).get(i) - batched.get(o).get(sample * row + i));
          if (d > max[o] || Double.isNaN(d)) {
            max[o] = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
            worst[o] = sample;
          }
        }
      }
    }
    for (int o = 0; o < outputs.size(); o++) {
      Tensor t = batched.get(o);
      double sumSq = 0;
      for (int i = 0; i < t.size(); i++) {
        sumSq += t.get(i) * t.get(i);
      }
      sink.batchSizeConsistency(outputs.get(o).key(), count, singles, max[o], Math.sqrt(sumSq / Math.max(1, t.size())),
          worst[o]);
    }
  }

  /**
   * The index of the largest value of the first output for every sample, running {@code batchSize}
   * samples at a time: a classifier's predictions.
   */
  static int[] predictions(Session session, List<Feed> feeds, ModelRunner.Input output, int batchSize, String dataLabel) {
    int samples = feeds.get(0).data().shape()[0];
    int[] out = new int[samples];
    for (int start = 0; start < samples; start += batchSize) {
      int count = Math.min(batchSize, samples - start);
      Tensor logits = runOutputs(session, feeds, List.of(output), start, count, dataLabel).get(0);
      int classes = logits.size() / count;
      for (int s = 0; s < count; s++) {
        int best = 0;
        for (int k = 1; k < classes; k++) {
          if (logits.get(s * classes + k) > logits.get(s * classes + best)) {
            best = k;
          }
        }
        out[start + s] = best;
      }
    }
    return out;
  }

  private static List<Tensor> runOutputs(Session session, List<Feed> feeds, List<ModelRunner.Input> outputs, int start,
      int count, String dataLabel) {
    List<org.tensorflow.Tensor> fed = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (Feed feed : feeds) {
        org.tensorflow.Tensor t = slice(feed.data(), start, count, feed.float64());
        fed.add(t);
        runner.feed(feed.graphTensors().get(0), t);
      }
      for (ModelRunner.Input output : outputs) {
        runner.fetch(output.tensor());
      }
      List<Tensor> out = new ArrayList<>();
      try (Result result = runner.run()) {
        for (int i = 0; i < outputs.size(); i++) {
          out.add(toTensor(result.get(i)));
        }
      }
      return out;
    } catch (org.tensorflow.exceptions.TensorFlowException e) {
      throw new InvalidInputException(dataLabel, "samples " + start + " to " + (start + count - 1),
          "the model cannot run on this data: " + TensorFlowRuntime.firstLine(e.getMessage()), e);
    } finally {
      fed.forEach(org.tensorflow.Tensor::close);
    }
  }

  /** Rows {@code [start, start + count)} of the data, as the tensor type the graph takes. */
  private static org.tensorflow.Tensor slice(Tensor data, int start, int count, boolean float64) {
    int[] shape = data.shape();
    long[] dims = new long[shape.length];
    for (int i = 0; i < shape.length; i++) {
      dims[i] = shape[i];
    }
    dims[0] = count;
    int row = 1;
    for (int i = 1; i < shape.length; i++) {
      row *= shape[i];
    }
    int from = start * row;
    int to = from + count * row;
    if (float64) {
      double[] values = new double[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = data.get(i);
      }
      return TFloat64.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    float[] values = data instanceof Tensor.Float32 f
        ? Arrays.copyOfRange(f.data(), from, to)
        : toFloats(data, from, to);
    return TFloat32.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
  }

  private static float[] toFloats(Tensor data, int from, int to) {
    float[] out = new float[to - from];
    for (int i = from; i < to; i++) {
      out[i - from] = (float) data.get(i);
    }
    return out;
  }

  private static Tensor toTensor(org.tensorflow.Tensor t) {
    long[] dims = t.shape().asArray();
    int[] shape = new int[dims.length];
    for (int i = 0; i < dims.length; i++) {
      shape[i] = (int) dims[i];
    }
    int n = (int) t.size();
    if (t instanceof TFloat64 d) {
      double[] values = new double[n];
      d.asRawTensor().data().asDoubles().read(values);
      return new Tensor.Float64(shape, values);
    }
    if (!(t instanceof TFloat32 f)) {
      throw new IllegalStateException("captured a " + t.dataType() + " tensor; BN layers work on floats");
    }
    float[] values = new float[n];
    f.asRawTensor().data().asFloats().read(values);
    return new Tensor.Float32(shape, values);
  }
}
