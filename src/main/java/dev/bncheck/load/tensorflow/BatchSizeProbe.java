package dev.bncheck.load.tensorflow;

import dev.bncheck.model.BatchSizeComparison;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.util.List;

/** BN005's measurement: whether a sample's outputs change with the batch it runs in. */
final class BatchSizeProbe {

  private BatchSizeProbe() {}

  /** Samples also run alone: enough to show batch dependence, few enough to stay cheap. */
  static final int SINGLE_SAMPLES = 8;

  /**
   * Runs the first batch, then its first samples one at a time, and reports per output how much
   * a sample's result changes with the batch around it.
   */
  static void measure(CheckedSession session, List<Feed> feeds, List<ModelRunner.Input> outputs, int batchSize,
      CalibrationSink sink, String dataLabel) {
    if (feeds.isEmpty()) {
      return;
    }
    int count = Math.min(batchSize, Feed.samples(feeds));
    if (count < 2 || outputs.isEmpty()) {
      return;
    }
    measure(session, feeds, outputs, ModelOutputs.run(session, feeds, outputs, 0, count, dataLabel), sink,
        dataLabel);
  }

  /**
   * Runs the first samples of a batch one at a time, and reports per output how much a sample's
   * result changes with the batch around it.
   *
   * @param batched the outputs on the first batch
   */
  static void measure(CheckedSession session, List<Feed> feeds, List<ModelRunner.Input> outputs,
      List<Tensor> batched, CalibrationSink sink, String dataLabel) {
    // without inputs the batch cannot be split into single samples
    if (feeds.isEmpty() || outputs.isEmpty() || batched.get(0).shape().length == 0 || batched.get(0).shape()[0] < 2) {
      return;
    }
    int count = batched.get(0).shape()[0];
    int singles = Math.min(count, SINGLE_SAMPLES);
    List<BatchSizeComparison> comparisons = batched.stream().map(t -> new BatchSizeComparison(t, count)).toList();
    for (int sample = 0; sample < singles; sample++) {
      List<Tensor> alone = ModelOutputs.run(session, feeds, outputs, sample, 1, dataLabel);
      for (int o = 0; o < outputs.size(); o++) {
        comparisons.get(o).addAlone(sample, alone.get(o));
      }
    }
    for (int o = 0; o < outputs.size(); o++) {
      comparisons.get(o).report(outputs.get(o).key(), sink);
    }
  }
}
