package dev.bncheck.repair;

import dev.bncheck.load.array.InputArray;
import dev.bncheck.load.array.SampleOrder;
import dev.bncheck.model.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Calibration data split by sample into the part that sets the statistics and the part held out
 * to verify them. The held-out samples are drawn in bncheck's fixed shuffled order, so the split
 * is the same on every run and a file sorted by class does not hold out its last class. An input
 * given one value for every run goes to both parts.
 *
 * @param calibration the samples the statistics are computed on
 * @param heldOut the samples the result is checked on
 */
public record DataSplit(Map<String, Tensor> calibration, Map<String, Tensor> heldOut, int calibrationSamples,
    int heldOutSamples) {

  public static DataSplit of(Map<String, Tensor> data, double heldOutFraction) {
    Map<String, InputArray> arrays = InputArray.numbers(data);
    int samples = InputArray.samples(arrays);
    int heldOut = (int) Math.floor(samples * heldOutFraction);
    int kept = samples - heldOut;
    Map<String, Tensor> calibration = new LinkedHashMap<>();
    Map<String, Tensor> verification = new LinkedHashMap<>();
    SampleOrder.shuffled(arrays).forEach((name, array) -> {
      Tensor t = ((InputArray.Numbers) array).tensor();
      calibration.put(name, rows(t, 0, kept));
      verification.put(name, heldOut == 0 ? t : rows(t, kept, samples));
    });
    return new DataSplit(calibration, verification, kept, heldOut == 0 ? samples : heldOut);
  }

  /** The first {@code n} samples of every input (all of them when there are fewer). */
  public static Map<String, Tensor> firstSamples(Map<String, Tensor> data, int n) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (var e : data.entrySet()) {
      out.put(e.getKey(), rows(e.getValue(), 0, e.getValue().shape().length == 0 ? 0
          : Math.min(n, e.getValue().shape()[0])));
    }
    return out;
  }

  /** Samples {@code [from, to)}; a value for every run, as it is. */
  private static Tensor rows(Tensor t, int from, int to) {
    if (t.shape().length == 0) {
      return t;
    }
    int[] shape = t.shape().clone();
    int row = t.size() / Math.max(1, shape[0]);
    shape[0] = to - from;
    if (t instanceof Tensor.Float32 f) {
      return new Tensor.Float32(shape, Arrays.copyOfRange(f.data(), from * row, to * row));
    }
    return new Tensor.Float64(shape, Arrays.copyOfRange(((Tensor.Float64) t).data(), from * row, to * row));
  }
}
