package dev.bncheck.bench;

import java.util.Arrays;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.types.TFloat32;

/**
 * TensorFlow's own batch statistics: a graph of a placeholder and one FusedBatchNormV3 in
 * training mode, with the batch already copied into a TensorFlow tensor so that a run measures
 * the op, not the copy.
 */
final class FusedBatchNormSession implements AutoCloseable {

  /** Batch mean and the variance TensorFlow reports next to it. */
  record Statistics(float[] mean, float[] variance) {}

  private final Graph graph = new Graph();
  private final Session session;
  private final Placeholder<TFloat32> x;
  private final FusedBatchNorm<TFloat32, TFloat32> bn;
  private final TFloat32 batch;
  private final int channels;

  FusedBatchNormSession(float[] values, long[] shape, String dataFormat) {
    channels = (int) shape["NHWC".equals(dataFormat) ? 3 : 1];
    Ops tf = Ops.create(graph);
    x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
    float[] ones = new float[channels];
    Arrays.fill(ones, 1f);
    bn = tf.nn.fusedBatchNorm(x, tf.constant(ones), tf.constant(new float[channels]), tf.constant(new float[channels]),
        tf.constant(ones), FusedBatchNorm.epsilon(1e-3f), FusedBatchNorm.isTraining(true),
        FusedBatchNorm.dataFormat(dataFormat));
    session = new Session(graph);
    batch = TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(values, true, false));
  }

  /** The type of the op in the graph, to show that it is the op the benchmark claims. */
  String opType() {
    return bn.op().type();
  }

  /** Runs the op, fetching y with the statistics as a training step would, and frees the outputs. */
  float run() {
    try (Result r = fetchAll()) {
      return ((TFloat32) r.get(1)).getFloat(0);
    }
  }

  Statistics statistics() {
    try (Result r = fetchAll()) {
      float[] mean = new float[channels];
      float[] variance = new float[channels];
      ((TFloat32) r.get(1)).copyTo(DataBuffers.of(mean, false, false));
      ((TFloat32) r.get(2)).copyTo(DataBuffers.of(variance, false, false));
      return new Statistics(mean, variance);
    }
  }

  private Result fetchAll() {
    return session.runner().feed(x, batch).fetch(bn.y()).fetch(bn.batchMean()).fetch(bn.batchVariance()).run();
  }

  @Override
  public void close() {
    batch.close();
    session.close();
    graph.close();
  }
}
