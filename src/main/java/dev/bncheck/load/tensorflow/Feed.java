package dev.bncheck.load.tensorflow;

import dev.bncheck.load.array.InputArray;
import dev.bncheck.load.array.SampleOrder;
import java.util.List;
import org.tensorflow.proto.DataType;

/**
 * One model input: where to feed it, its data, the dtype the graph takes (float32, float64, int32,
 * int64 or string; integer data has been checked to hold whole numbers that float32 keeps exact)
 * and how its samples are fed: in {@code order} (the data's row of each fed sample), or as they are
 * where it is null. An order read in place of a shuffled copy saves the copy (154 MB and 0.8 s for
 * ResNet-50's 256 samples).
 */
record Feed(List<String> graphTensors, InputArray data, DataType dtype, Batching batching, int[] order) {

  /** This input's data fed in {@code order}. */
  Feed inOrder(int[] order) {
    return new Feed(graphTensors, data, dtype, batching, order);
  }

  /** The data's row of fed sample {@code i}. */
  int row(int i) {
    return order == null ? i : order[i];
  }

  /** How an input takes the samples along its data's first axis. */
  enum Batching {
    /** In batches: the data's first axis is the input's. */
    BATCHES,
    /** One sample per run, keeping the first axis: the input's first dimension is fixed at 1. */
    ONE,
    /** One sample per run without the first axis: the input has none (a WAV file's bytes, a scalar). */
    UNBATCHED,
    /** The same value with every run: a scalar that lists no samples, such as a mode flag or a rate. */
    PER_RUN
  }

  /** The samples the feeds list: those of the first that is not fed {@linkplain Batching#PER_RUN per run}; 1 when none lists any. */
  static int samples(List<Feed> feeds) {
    return feeds.stream().filter(f -> f.batching() != Batching.PER_RUN).findFirst()
        .map(f -> f.data().shape()[0]).orElse(1);
  }

  /** The samples one run feeds: {@code requested}, or one where an input takes one sample at a time. */
  static int batchSize(List<Feed> feeds, int requested) {
    return feeds.stream().allMatch(f -> f.batching() == Batching.BATCHES || f.batching() == Batching.PER_RUN)
        ? requested : 1;
  }

  /** The samples of a run, as the user finds them in the data ({@link SampleOrder#describe}). */
  static String samples(List<Feed> feeds, int start, int count) {
    return SampleOrder.describe(feeds.stream().filter(f -> f.batching() != Batching.PER_RUN).findFirst()
        .map(Feed::order).orElse(null), start, count);
  }

  /**
   * A runner fed samples {@code [start, start + count)} of every input, at the original placeholder
   * and its copies; the tensors made for it are added to {@code fed}, for the caller to close.
   */
  static CheckedSession.Runner runner(CheckedSession session, List<Feed> feeds, int start, int count,
      List<org.tensorflow.Tensor> fed) {
    CheckedSession.Runner runner = session.runner();
    for (Feed feed : feeds) {
      org.tensorflow.Tensor t = slice(feed, start, count);
      fed.add(t);
      for (String name : feed.graphTensors()) {
        runner.feed(name, t);
      }
    }
    return runner;
  }

  /** Fed samples {@code [start, start + count)} of the data, as the tensor type and shape the graph takes. */
  private static org.tensorflow.Tensor slice(Feed feed, int start, int count) {
    int[] shape = feed.data().shape();
    if (feed.batching() == Batching.PER_RUN) {
      return TensorConversions.toTensorFlow(feed.data(), feed.dtype(), new long[0], new int[] {0}, 1);
    }
    boolean unbatched = feed.batching() == Batching.UNBATCHED;
    long[] dims = new long[unbatched ? shape.length - 1 : shape.length];
    for (int i = 1; i < shape.length; i++) {
      dims[unbatched ? i - 1 : i] = shape[i];
    }
    if (!unbatched) {
      dims[0] = count;
    }
    int row = 1;
    for (int i = 1; i < shape.length; i++) {
      row *= shape[i];
    }
    int[] rowStarts = new int[count];
    for (int i = 0; i < count; i++) {
      rowStarts[i] = feed.row(start + i) * row;
    }
    return TensorConversions.toTensorFlow(feed.data(), feed.dtype(), dims, rowStarts, row);
  }
}
