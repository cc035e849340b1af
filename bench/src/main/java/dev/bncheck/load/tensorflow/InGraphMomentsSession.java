package dev.bncheck.load.tensorflow;

import dev.bncheck.load.LoadOptions;
import dev.bncheck.model.BatchMoments;
import dev.bncheck.model.BnLayer;
import java.util.Arrays;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * The moments bncheck computes inside a TensorFlow model's graph, on a graph of a placeholder
 * and those ops alone, with the batch already in a TensorFlow tensor: what each calibration batch
 * costs per BN layer beyond the model's own forward pass. In the benchmark module, in
 * {@link InGraphMoments}'s package, since that class is not part of bncheck's API.
 */
public final class InGraphMomentsSession implements AutoCloseable {

  private final Graph graph = new Graph();
  private final Session session;
  private final CheckedSession checked;
  private final Placeholder<TFloat32> x;
  private final InGraphMoments moments;
  private final TFloat32 batch;

  public InGraphMomentsSession(float[] values, long[] shape, int channelAxis) {
    int channels = (int) shape[channelAxis];
    Ops tf = Ops.create(graph);
    x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
    double[] ones = new double[channels];
    Arrays.fill(ones, 1);
    BnLayer layer = BnLayer.builder("bench", "bench").channelAxis(channelAxis).epsilon(1e-3)
        .statistics(new double[channels], ones).build();
    moments = InGraphMoments.add(graph, tf.withSubScope("moments"), x.op().name() + ":0", layer).orElseThrow();
    session = TensorFlowRuntime.session(graph, LoadOptions.DEFAULT_TIMEOUT);
    // the graph is the benchmark's own: nothing to check before a run
    checked = new CheckedSession(graph, session, "bench", LoadOptions.DEFAULTS.withSafety(Set.of(), true));
    batch = TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(values, true, false));
  }

  /** One batch reduced in one pass, as bncheck reduces a batch whose means allow it. */
  public BatchMoments run() {
    InGraphMoments.Reading reading = read(false);
    if (reading.status() != InGraphMoments.Status.OK) {
      throw new IllegalStateException("in-graph moments in one pass: " + reading.status());
    }
    return reading.moments();
  }

  /** One batch reduced as bncheck does: in two passes when one pass refuses the data. */
  public BatchMoments runAsBncheck() {
    InGraphMoments.Reading reading = read(false);
    return reading.status() == InGraphMoments.Status.OK ? reading.moments() : read(true).moments();
  }

  private InGraphMoments.Reading read(boolean twoPasses) {
    CheckedSession.Runner runner = checked.runner().feed(x.op().name() + ":0", batch);
    moments.fetch(runner, twoPasses);
    try (Result r = runner.run()) {
      return moments.read(r, 0, twoPasses);
    }
  }

  @Override
  public void close() {
    batch.close();
    session.close();
    graph.close();
  }
}
