package dev.bncheck.repair;

import dev.bncheck.analysis.SamplingError;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.load.array.DistinctSamples;
import dev.bncheck.load.array.InputArray;
import dev.bncheck.model.Numbers;
import dev.bncheck.model.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * When recalibrating would make a model worse or no better, and so is refused unless forced:
 * statistics computed from too few distinct samples (they carry the sample's chance into the
 * model), and new statistics no closer to held-out data than the old ones (the old ones were
 * already right). The same sampling policy as check's decides how few is too few.
 */
public final class RecalibrationGuard {

  private RecalibrationGuard() {}

  /** Samples whose values differ in at least one input (see {@link DistinctSamples}). */
  public static long distinctSamples(Map<String, Tensor> data) {
    Map<String, InputArray> arrays = new LinkedHashMap<>();
    data.forEach((name, tensor) -> arrays.put(name, new InputArray.Numbers(tensor)));
    return DistinctSamples.count(arrays);
  }

  /**
   * Why the data cannot set the statistics of {@code channels} channels, or empty when it can: the
   * new statistics must be within BN003's error threshold of the population by chance, at the
   * family-wise rate check uses.
   */
  public static Optional<String> tooLittleData(long samples, long distinct, long channels) {
    long needed = SamplingError.of(Math.max(2, distinct), 2 * channels)
        .samplesToJudge(Thresholds.DEFAULTS.meanShiftError());
    if (distinct >= needed) {
      return Optional.empty();
    }
    return Optional.of(samples + " calibration samples" + (distinct < samples ? ", of which " + distinct + " distinct," : "")
        + " cannot set the statistics of " + channels + " channels: chance alone would move them by more than"
        + " check's error threshold; about " + needed + " distinct samples are needed");
  }

  /**
   * Why the new statistics are no improvement, or empty when they are closer to the held-out data
   * than the old ones. Closeness is the sum over the recalibrated layers' channels of the squared
   * standardized mean shift and the squared log variance ratio: both are 0 for statistics that
   * describe the data exactly.
   */
  public static Optional<String> noCloser(List<Verification.LayerMetrics> before, List<Verification.LayerMetrics> after,
      Set<String> recalibrated) {
    double old = distance(before, recalibrated);
    double fixed = distance(after, recalibrated);
    if (fixed < old || !Double.isFinite(old) && Double.isFinite(fixed)) {
      return Optional.empty();
    }
    return Optional.of("the new statistics are no closer to the held-out samples than the old ones (squared"
        + " distance " + Numbers.brief(old) + " before, " + Numbers.brief(fixed) + " after): the model's statistics"
        + " already describe this data");
  }

  /**
   * Why the new statistics make the classifier worse on the held-out samples, or empty: accuracy
   * at batch size 64 lower after than before by more than one held-out sample.
   */
  public static Optional<String> lessAccurate(double before, double after, int heldOut) {
    if (after >= before - 1.0 / Math.max(1, heldOut) - 1e-9) {
      return Optional.empty();
    }
    return Optional.of("the held-out accuracy falls from " + Numbers.format(100 * before, 4) + "% to "
        + Numbers.format(100 * after, 4) + "% with the new statistics: the calibration data does not look like the"
        + " data the model serves (one class only, other preprocessing?)");
  }

  private static double distance(List<Verification.LayerMetrics> layers, Set<String> recalibrated) {
    double sum = 0;
    for (Verification.LayerMetrics layer : layers) {
      if (recalibrated.contains(layer.name()) && layer.metrics().isPresent()) {
        DivergenceMetrics m = layer.metrics().get();
        for (int c = 0; c < m.varianceRatio().length; c++) {
          double shift = m.standardizedMeanShift()[c];
          double logRatio = Math.log(m.varianceRatio()[c]);
          sum += shift * shift + logRatio * logRatio;
        }
      }
    }
    return Double.isNaN(sum) ? Double.POSITIVE_INFINITY : sum;
  }
}
