package dev.bncheck.repair;

import dev.bncheck.model.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Calibration data split by sample into the part that sets the statistics and the part held out
 * to verify them. The split is by position (the last samples are held out), so it is the same on
 * every run.
 *
 * @param calibration the samples the statistics are computed on
 * @param heldOut the samples the result is checked on
 */
public record DataSplit(Map<String, Tensor> calibration, Map<String, Tensor> heldOut, int calibrationSamples,
    int heldOutSamples) {

  public static DataSplit of(Map<String, Tensor> data, double heldOutFraction) {
    int samples = data.values().iterator().next().shape()[0];
    int heldOut = (int) Math.floor(samples * heldOutFraction);
    int kept = samples - heldOut;
    Map<String, Tensor> calibration = new LinkedHashMap<>();
    Map<String, Tensor> verification = new LinkedHashMap<>();
    for (var e : data.entrySet()) {
      calibration.put(e.getKey(), rows(e.getValue(), 0, kept));
      verification.put(e.getKey(), heldOut == 0 ? e.getValue() : rows(e.getValue(), kept, samples));
    }
    return new DataSplit(calibration, verification, kept, heldOut == 0 ? samples : heldOut);
  }

  /** The first {@code n} samples of every input (all of them when there are fewer). */
  public static Map<String, Tensor> firstSamples(Map<String, Tensor> data, int n) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (var e : data.entrySet()) {
      out.put(e.getKey(), rows(e.getValue(), 0, Math.min(n, e.getValue().shape()[0])));
    }
    return out;
  }

  private static Tensor rows(Tensor t, int from, int to) {
    int[] shape = t.shape().clone();
    int row = t.size() / Math.max(1, shape[0]);
    shape[0] = to - from;
    if (t instanceof Tensor.Float32 f) {
      return new Tensor.Float32(shape, Arrays.copyOfRange(f.data(), from * row, to * row));
    }
    return new Tensor.Float64(shape, Arrays.copyOfRange(((Tensor.Float64) t).data(), from * row, to * row));
  }
}
