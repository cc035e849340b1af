package dev.bncheck.load.tensorflow;

import dev.bncheck.model.BatchMoments;
import dev.bncheck.model.BnLayer;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.IntStream;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Sum;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TNumber;

/**
 * Per-channel moments of one graph tensor, computed by ops added next to it, so that a batch run
 * hands over a few numbers per channel instead of the whole activation (docs/performance.md).
 *
 * <p>Two passes, as the Java kernel would: the mean, then the squared deviations from it. Each
 * pass sums in the tensor's own precision only along one axis (an image row), then in float64. The
 * deviations are taken from the mean rounded to the tensor's type; the exact M2 about the float64
 * mean follows from it by one correction term. A channel whose moments come out non-finite (a
 * non-finite or overflowing value) is left to the caller, which then reduces the batch in Java.
 *
 * @param shape the node giving the tensor's shape (int64)
 * @param mean the float64 mean per channel
 * @param roundedMean that mean in the tensor's type, as the deviations were taken from it
 * @param m2 the sum of squared deviations from {@code roundedMean}, per channel, in float64
 */
record InGraphMoments(String shape, String mean, String roundedMean, String m2, int channelAxis) {

  /**
   * Adds the ops for the layer's input (or its copy in the training view) when it is a float32 or
   * float64 tensor of known rank; empty for other tensors, which are reduced in Java.
   */
  static Optional<InGraphMoments> add(Graph graph, Ops scope, String tensor, BnLayer layer) {
    GraphScope.Ref ref = GraphScope.Ref.parse(tensor);
    GraphOperation op = graph.operation(ref.node());
    if (op == null) {
      return Optional.empty();
    }
    Output<?> x = op.output(ref.index());
    int rank = x.shape().numDimensions();
    int channelAxis = rank < 0 ? -1 : layer.resolveChannelAxis(rank);
    if ((x.dataType() != DataType.DT_FLOAT && x.dataType() != DataType.DT_DOUBLE) || rank < 2 || channelAxis < 1
        || channelAxis >= rank) {
      return Optional.empty();
    }
    // First over the innermost axis but the channel's, in the tensor's precision (a few hundred
    // values at most in images: little rounding, and the bulk of the data is read only here);
    // then, in float64, over everything but the channel.
    int innermost = channelAxis == rank - 1 ? rank - 2 : rank - 1;
    int[] inner = rank > 2 ? new int[] {innermost} : new int[0];
    int[] allButChannel = IntStream.range(0, rank).filter(d -> d != channelAxis).toArray();
    long[] perChannel = new long[rank];
    Arrays.fill(perChannel, 1);
    perChannel[channelAxis] = -1;
    Operand<TInt64> shape = scope.shape(x, TInt64.class);
    Reduction reduction = new Reduction(scope, inner, allButChannel);
    if (x.dataType() == DataType.DT_FLOAT) {
      return Optional.of(reduction.moments(x.expect(TFloat32.class), TFloat32.class, shape, perChannel, channelAxis));
    }
    return Optional.of(reduction.moments(x.expect(TFloat64.class), TFloat64.class, shape, perChannel, channelAxis));
  }

  /** The two-stage sum over all axes but the channel's, and the moments built from it. */
  private record Reduction(Ops tf, int[] inner, int[] allButChannel) {

    <T extends TNumber> InGraphMoments moments(Operand<T> x, Class<T> type, Operand<TInt64> shape, long[] perChannel,
        int channelAxis) {
      Operand<TFloat64> count = tf.dtypes.cast(tf.math.div(tf.size(x, TInt64.class),
          tf.gather(shape, tf.constant(channelAxis), tf.constant(0))), TFloat64.class);
      Operand<TFloat64> mean = tf.math.div(sum(x), count);
      Operand<T> rounded = tf.dtypes.cast(mean, type);
      // Sub then Square: TensorFlow's SquaredDifference took 50% longer than both on [32,112,112,64]
      Operand<TFloat64> m2 = sum(tf.math.square(tf.math.sub(x, tf.reshape(rounded, tf.constant(perChannel)))));
      return new InGraphMoments(name(shape), name(mean), name(rounded), name(m2), channelAxis);
    }

    private <T extends TNumber> Operand<TFloat64> sum(Operand<T> x) {
      Operand<? extends TNumber> partial = inner.length == 0 ? x
          : tf.sum(x, tf.constant(inner), Sum.keepDims(true));
      return tf.sum(tf.dtypes.cast(partial, TFloat64.class), tf.constant(allButChannel));
    }
  }

  private static String name(Operand<?> operand) {
    return operand.op().name() + ":" + operand.asOutput().index();
  }

  /** How many fetches {@link #fetch} adds. */
  static final int FETCHES = 4;

  void fetch(Session.Runner runner) {
    runner.fetch(shape).fetch(mean).fetch(roundedMean).fetch(m2);
  }

  /**
   * The moments from a run's results, starting at {@code at}; empty when any is not finite, in
   * which case the batch must be reduced in Java.
   */
  Optional<BatchMoments> read(Result result, int at) {
    long[] dims = readLongs((TInt64) result.get(at));
    double[] mean = readDoubles(result.get(at + 1));
    double[] rounded = readDoubles(result.get(at + 2));
    double[] m2 = readDoubles(result.get(at + 3));
    int[] shape = new int[dims.length];
    long count = 1;
    for (int d = 0; d < dims.length; d++) {
      shape[d] = (int) dims[d];
      count *= dims[d];
    }
    long perChannel = count / Math.max(1, shape[channelAxis]);
    for (int c = 0; c < mean.length; c++) {
      double off = mean[c] - rounded[c];
      m2[c] = Math.max(0, m2[c] - perChannel * off * off);
      if (!Double.isFinite(mean[c]) || !Double.isFinite(m2[c])) {
        return Optional.empty();
      }
    }
    return Optional.of(new BatchMoments(shape, channelAxis, mean, m2));
  }

  private static long[] readLongs(TInt64 t) {
    long[] out = new long[(int) t.size()];
    t.asRawTensor().data().asLongs().read(out);
    return out;
  }

  private static double[] readDoubles(org.tensorflow.Tensor t) {
    double[] out = new double[(int) t.size()];
    if (t instanceof TFloat32 f) {
      float[] floats = new float[out.length];
      f.asRawTensor().data().asFloats().read(floats);
      for (int i = 0; i < out.length; i++) {
        out[i] = floats[i];
      }
    } else {
      ((TFloat64) t).asRawTensor().data().asDoubles().read(out);
    }
    return out;
  }
}
