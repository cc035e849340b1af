package dev.bncheck.load.tensorflow;

import dev.bncheck.load.Predictions;
import dev.bncheck.model.Tensor;
import java.util.List;

/** A classifier's predicted classes, for recalibrate's verification. */
final class ClassPredictions {

  private ClassPredictions() {}

  /**
   * The index of the largest value of the first output for every sample, running {@code batchSize}
   * samples at a time: a classifier's predictions.
   */
  static Predictions of(CheckedSession session, List<Feed> feeds, ModelRunner.Input output,
      int batchSize, String dataLabel) {
    int samples = Feed.samples(feeds);
    int[] out = new int[samples];
    int width = 0;
    for (int start = 0; start < samples; start += batchSize) {
      int count = Math.min(batchSize, samples - start);
      Tensor logits = ModelOutputs.run(session, feeds, List.of(output), start, count, dataLabel).get(0);
      int classes = logits.size() / count;
      width = classes;
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
    return new Predictions(out, width);
  }
}
