package dev.bncheck.load.onnx;

import dev.bncheck.model.BatchSizeComparison;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BN005: runs the first samples of the first batch one at a time and reports, per model output,
 * how much a sample's result changes with the batch around it.
 */
final class BatchSizeProbe {

  /** What a comparison found. */
  enum Outcome {
    /** No output could be compared (none, or a batch of one): nothing was reported. */
    NOT_COMPARED,
    /** Every output was compared and none changed beyond round-off. */
    INDEPENDENT,
    /** Some output changed with the batch around a sample, or could not be compared. */
    DEPENDENT
  }

  private BatchSizeProbe() {}

  /**
   * @param batched the model's float outputs on the first batch, by name
   * @return whether outputs were compared and reported, and whether any depends on the batch
   */
  static Outcome compare(OrtRunner ort, List<OnnxInputs.Feed> feeds, Map<String, Tensor> batched, String label,
      CalibrationSink sink) {
    if (feeds.isEmpty() || batched.isEmpty()) {
      return Outcome.NOT_COMPARED;
    }
    int count = batched.values().iterator().next().shape().length == 0 ? 0
        : batched.values().iterator().next().shape()[0];
    if (count < 2) {
      return Outcome.NOT_COMPARED;
    }
    int singles = Math.min(count, OnnxCalibration.SINGLE_SAMPLES);
    List<String> names = List.copyOf(batched.keySet());
    Map<String, BatchSizeComparison> comparisons = new LinkedHashMap<>();
    names.forEach(name -> comparisons.put(name, new BatchSizeComparison(batched.get(name), count)));
    for (int sample = 0; sample < singles; sample++) {
      int s = sample;
      ort.run(feeds, sample, 1, names, label, (name, alone) -> comparisons.get(name).addAlone(s, alone));
    }
    comparisons.forEach((name, comparison) -> comparison.report(name, sink));
    return comparisons.values().stream().allMatch(BatchSizeComparison::independent) ? Outcome.INDEPENDENT
        : Outcome.DEPENDENT;
  }
}
