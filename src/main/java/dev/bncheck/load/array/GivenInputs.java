package dev.bncheck.load.array;

import java.util.List;
import java.util.Map;

/**
 * The calibration data given with {@code --inputs}, read, and how many of its samples differ
 * ({@link DistinctSamples}): both read every sample, so they are done together, beside the
 * model's loading.
 */
public record GivenInputs(Map<String, InputArray> arrays, long distinctSamples) {

  /** Reads the given inputs ({@link ModelInputs#readArrays}) and counts their distinct samples. */
  public static GivenInputs read(List<String> specs) {
    return of(ModelInputs.readArrays(specs));
  }

  /** Inputs already at hand (synthetic ones), with their distinct samples counted. */
  public static GivenInputs of(Map<String, InputArray> arrays) {
    return new GivenInputs(arrays, DistinctSamples.count(arrays));
  }
}
