package dev.bncheck.load.onnx;

import dev.bncheck.model.BatchSizeComparison;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.util.ArrayList;
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
    int count = samples(batched);
    if (feeds.isEmpty() || count < 2) {
      return Outcome.NOT_COMPARED;
    }
    return compare(batched, alone(ort, feeds, List.copyOf(batched.keySet()), count, label), sink);
  }

  /**
   * The outputs {@code names} of the first samples of a batch of {@code batchSamples}, each run
   * alone: {@link OnnxCalibration#SINGLE_SAMPLES} of them at most, in order.
   */
  static List<Map<String, Tensor>> alone(OrtRunner ort, List<OnnxInputs.Feed> feeds, List<String> names,
      int batchSamples, String label) {
    List<Map<String, Tensor>> alone = new ArrayList<>();
    for (int sample = 0; sample < Math.min(batchSamples, OnnxCalibration.SINGLE_SAMPLES); sample++) {
      Map<String, Tensor> outputs = new LinkedHashMap<>();
      ort.run(feeds, sample, 1, names, label, (name, tensor) -> outputs.put(name, tensor));
      alone.add(outputs);
    }
    return alone;
  }

  /**
   * Reports, per output of the batch, how far each sample run {@code alone} is from its result in
   * the batch.
   */
  static Outcome compare(Map<String, Tensor> batched, List<Map<String, Tensor>> alone, CalibrationSink sink) {
    int count = samples(batched);
    if (count < 2 || alone.isEmpty()) {
      return Outcome.NOT_COMPARED;
    }
    Map<String, BatchSizeComparison> comparisons = new LinkedHashMap<>();
    batched.forEach((name, tensor) -> comparisons.put(name, new BatchSizeComparison(tensor, count)));
    for (int sample = 0; sample < alone.size(); sample++) {
      int s = sample;
      comparisons.forEach((name, comparison) -> comparison.addAlone(s, alone.get(s).get(name)));
    }
    comparisons.forEach((name, comparison) -> comparison.report(name, sink));
    return comparisons.values().stream().allMatch(BatchSizeComparison::independent) ? Outcome.INDEPENDENT
        : Outcome.DEPENDENT;
  }

  private static int samples(Map<String, Tensor> batched) {
    if (batched.isEmpty()) {
      return 0;
    }
    int[] shape = batched.values().iterator().next().shape();
    return shape.length == 0 ? 0 : shape[0];
  }
}
