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
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Sum;
import org.tensorflow.op.linalg.EuclideanNorm;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TNumber;

/**
 * Per-channel moments of one graph tensor, computed by ops added next to it, so that a batch run
 * hands over a few numbers per channel instead of the whole activation (docs/performance.md).
 *
 * <p>Every sum runs first along one axis in the tensor's own precision (an image row: a few
 * hundred values at most, and the only pass over the bulk of the data), then in float64 over
 * everything but the channel. Two ways, both added to the graph:
 *
 * <ul>
 *   <li><b>one pass</b> (the default): the sum and the sum of squares, each a reduction that
 *       reads the tensor once and writes nothing of its size (TensorFlow has no such op for
 *       squared deviations). M2 is then the sum of squares minus n mean², which loses the digits
 *       the mean takes up: float32 row sums carry a relative error up to about 1e-5, multiplied by
 *       {@code (mean² + variance) / variance}. When that factor exceeds {@link #MAX_CANCELLATION},
 *       the reading is refused and the caller switches the layer to the other way.
 *   <li><b>two passes</b>: the mean, then the squared deviations from it rounded to the tensor's
 *       type (the exact M2 about the float64 mean follows by one correction term). It writes two
 *       temporaries the size of the tensor and is about twice as slow, and its precision does not
 *       depend on the mean.
 * </ul>
 *
 * <p>Moments that come out non-finite (a non-finite or overflowing value) are refused too; the
 * caller then reduces the batch in Java, which leaves such values out and counts them.
 */
final class InGraphMoments {

  /**
   * The largest {@code (mean² + variance) / variance} the one-pass sums are trusted with: M2 then
   * keeps a relative error below about 1e-3 (float32 rows of up to a few hundred values). Real
   * activations before BN stay well below it; dead and offset channels do not.
   */
  static final double MAX_CANCELLATION = 100;

  /** The same for float64 tensors, whose row sums are exact to about 1e-14. */
  static final double MAX_CANCELLATION_FLOAT64 = 1e9;

  /** What a batch's reduction gave. */
  enum Status { OK, NOT_FINITE, CANCELLED }

  /** The moments, when the status is OK. */
  record Reading(Status status, BatchMoments moments) {}

  private final int channelAxis;
  private final String shape;
  private final String sum;
  private final String sumOfSquares;
  private final String mean;
  private final String roundedMean;
  private final String m2;
  private final boolean float64;

  private InGraphMoments(int channelAxis, String shape, String sum, String sumOfSquares, String mean,
      String roundedMean, String m2, boolean float64) {
    this.channelAxis = channelAxis;
    this.shape = shape;
    this.sum = sum;
    this.sumOfSquares = sumOfSquares;
    this.mean = mean;
    this.roundedMean = roundedMean;
    this.m2 = m2;
    this.float64 = float64;
  }

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
    int innermost = channelAxis == rank - 1 ? rank - 2 : rank - 1;
    int[] inner = rank > 2 ? new int[] {innermost} : new int[0];
    int[] allButChannel = IntStream.range(0, rank).filter(d -> d != channelAxis).toArray();
    long[] perChannel = new long[rank];
    Arrays.fill(perChannel, 1);
    perChannel[channelAxis] = -1;
    Reduction reduction = new Reduction(scope, inner, allButChannel, channelAxis, perChannel);
    if (x.dataType() == DataType.DT_FLOAT) {
      return Optional.of(reduction.moments(x.expect(TFloat32.class), TFloat32.class));
    }
    return Optional.of(reduction.moments(x.expect(TFloat64.class), TFloat64.class));
  }

  /** The two-stage sums over all axes but the channel's, and the moments built from them. */
  private record Reduction(Ops tf, int[] inner, int[] allButChannel, int channelAxis, long[] perChannel) {

    <T extends TNumber> InGraphMoments moments(Operand<T> x, Class<T> type) {
      Operand<TInt64> shape = tf.shape(x, TInt64.class);
      Operand<TFloat64> sum = acrossRows(rows(x));
      Operand<TFloat64> sumOfSquares = acrossRows(tf.math.square(tf.dtypes.cast(rowNorms(x), TFloat64.class)));
      Operand<TFloat64> count = tf.dtypes.cast(tf.math.div(tf.size(x, TInt64.class),
          tf.gather(shape, tf.constant(channelAxis), tf.constant(0))), TFloat64.class);
      Operand<TFloat64> mean = tf.math.div(sum, count);
      Operand<T> rounded = tf.dtypes.cast(mean, type);
      // Sub then Square: TensorFlow's SquaredDifference took 50% longer than both on [32,112,112,64]
      Operand<TFloat64> m2 = acrossRows(rows(tf.math.square(tf.math.sub(x, tf.reshape(rounded,
          tf.constant(perChannel))))));
      return new InGraphMoments(channelAxis, name(shape), name(sum), name(sumOfSquares), name(mean), name(rounded),
          name(m2), type == TFloat64.class);
    }

    /** Sums along the row axis, in the tensor's type; the tensor itself when it has no such axis. */
    private <T extends TNumber> Operand<T> rows(Operand<T> x) {
      return inner.length == 0 ? x : tf.sum(x, tf.constant(inner), Sum.keepDims(true));
    }

    /** The Euclidean norm of each row (the absolute values when there are no rows). */
    private <T extends TNumber> Operand<T> rowNorms(Operand<T> x) {
      return inner.length == 0 ? tf.math.abs(x) : tf.linalg.euclideanNorm(x, tf.constant(inner),
          EuclideanNorm.keepDims(true));
    }

    private Operand<TFloat64> acrossRows(Operand<? extends TNumber> rows) {
      Operand<TFloat64> wide = rows.type() == TFloat64.class
          ? rows.asOutput().expect(TFloat64.class)
          : tf.dtypes.cast(rows, TFloat64.class);
      return tf.sum(wide, tf.constant(allButChannel));
    }
  }

  private static String name(Operand<?> operand) {
    return operand.op().name() + ":" + operand.asOutput().index();
  }

  /**
   * Adds the fetches of one way ({@code twoPasses} or the one-pass sums), to read with {@link
   * #read}; returns how many it added.
   */
  int fetch(CheckedSession.Runner runner, boolean twoPasses) {
    runner.fetch(shape);
    if (twoPasses) {
      runner.fetch(mean).fetch(m2).fetch(roundedMean);
      return 4;
    }
    runner.fetch(sum).fetch(sumOfSquares);
    return 3;
  }

  /** The moments from a run's results, starting at {@code at}, fetched by {@link #fetch}. */
  Reading read(Result result, int at, boolean twoPasses) {
    long[] dims = readLongs((TInt64) result.get(at));
    int[] dimensions = new int[dims.length];
    long count = 1;
    for (int d = 0; d < dims.length; d++) {
      dimensions[d] = (int) dims[d];
      count *= dims[d];
    }
    long n = count / Math.max(1, dimensions[channelAxis]);
    double[] first = TensorConversions.doubles(result.get(at + 1));
    double[] second = TensorConversions.doubles(result.get(at + 2));
    double[] means = new double[first.length];
    double[] m2s = new double[first.length];
    double[] rounded = twoPasses ? TensorConversions.doubles(result.get(at + 3)) : null;
    Status status = Status.OK;
    for (int c = 0; c < first.length; c++) {
      if (twoPasses) {
        double off = first[c] - rounded[c];
        means[c] = first[c];
        m2s[c] = Math.max(0, second[c] - n * off * off);
      } else {
        means[c] = first[c] / n;
        m2s[c] = Math.max(0, second[c] - first[c] * means[c]);
        if (second[c] > (float64 ? MAX_CANCELLATION_FLOAT64 : MAX_CANCELLATION) * m2s[c]) {
          status = Status.CANCELLED;
        }
      }
      if (!Double.isFinite(means[c]) || !Double.isFinite(m2s[c]) || !Double.isFinite(second[c])) {
        return new Reading(Status.NOT_FINITE, null);
      }
    }
    return status == Status.OK
        ? new Reading(Status.OK, new BatchMoments(dimensions, channelAxis, means, m2s))
        : new Reading(status, null);
  }

  private static long[] readLongs(TInt64 t) {
    long[] out = new long[(int) t.size()];
    t.asRawTensor().data().asLongs().read(out);
    return out;
  }
}
