package dev.bncheck.load.onnx;

import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.util.List;
import java.util.Map;

/**
 * BN005: runs the first samples of the first batch one at a time and reports, per model output,
 * how much a sample's result changes with the batch around it.
 */
final class BatchSizeProbe {

  private BatchSizeProbe() {}

  /**
   * @param batched the model's float outputs on the first batch, by name
   */
  static void compare(OrtRunner ort, List<OnnxInputs.Feed> feeds, Map<String, Tensor> batched, String label,
      CalibrationSink sink) {
    if (feeds.isEmpty() || batched.isEmpty()) {
      return;
    }
    int count = batched.values().iterator().next().shape().length == 0 ? 0
        : batched.values().iterator().next().shape()[0];
    if (count < 2) {
      return;
    }
    int singles = Math.min(count, OnnxCalibration.SINGLE_SAMPLES);
    List<String> names = List.copyOf(batched.keySet());
    double[] max = new double[names.size()];
    int[] worst = new int[names.size()];
    boolean[] comparable = new boolean[names.size()];
    java.util.Arrays.fill(comparable, true);
    for (int sample = 0; sample < singles; sample++) {
      int s = sample;
      ort.run(feeds, sample, 1, names, label, (name, alone) -> {
        int o = names.indexOf(name);
        Tensor all = batched.get(name);
        if (alone == null || all.shape().length == 0 || (long) alone.size() * count != all.size()) {
          // not one row per sample after all: nothing to compare
          comparable[o] = false;
          return;
        }
        int row = alone.size();
        for (int i = 0; i < row; i++) {
          double a = alone.get(i);
          double b = all.get(s * row + i);
          // a sample whose own input is NaN gives NaN both ways: no dependence on the batch
          double d = a == b || Double.isNaN(a) && Double.isNaN(b) ? 0 : Math.abs(a - b);
          if (d > max[o] || Double.isNaN(d)) {
            max[o] = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
            worst[o] = s;
          }
        }
      });
    }
    for (int o = 0; o < names.size(); o++) {
      if (!comparable[o]) {
        continue;
      }
      Tensor t = batched.get(names.get(o));
      double sumSq = 0;
      int finite = 0;
      for (int i = 0; i < t.size(); i++) {
        if (Double.isFinite(t.get(i))) {
          sumSq += t.get(i) * t.get(i);
          finite++;
        }
      }
      sink.batchSizeConsistency(names.get(o), count, singles, max[o], Math.sqrt(sumSq / Math.max(1, finite)),
          worst[o]);
    }
  }
}
