package dev.bncheck.load.array;

import dev.bncheck.model.Tensor;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * How many samples differ in at least one input: a file of 4 images repeated 64 times holds 256
 * samples but the information of 4, and statistics judged as if there were 256 claim a precision
 * the data does not have.
 */
public final class DistinctSamples {

  private DistinctSamples() {}

  /**
   * Distinct samples along the first axis of every input (the inputs share that axis). Samples
   * are compared by a 64-bit fingerprint of their values, not by copies: a copy of every sample
   * would double the memory of the inputs, while two different samples share a fingerprint with a
   * chance of about 2^-64 per pair.
   */
  public static long count(Map<String, InputArray> data) {
    int samples = InputArray.samples(data);
    if (samples < 0) {
      return 0;
    }
    if (!InputArray.agree(data, samples)) {
      return samples;
    }
    Set<Long> distinct = new HashSet<>();
    for (int i = 0; i < samples; i++) {
      long fingerprint = 0;
      for (InputArray array : data.values()) {
        if (!array.perRun()) {
          fingerprint = fingerprint(fingerprint, array, i, samples);
        }
      }
      distinct.add(fingerprint);
    }
    return distinct.size();
  }

  /**
   * The fingerprint {@link #count} compares sample {@code sample} of a tensor of {@code samples}
   * samples by, for data that arrives batch by batch and is never whole.
   */
  public static long fingerprint(Tensor tensor, int sample, int samples) {
    return fingerprint(0, tensor, sample, samples);
  }

  private static long fingerprint(long seed, Tensor tensor, int sample, int samples) {
    long h = seed;
    int size = tensor.size() / Math.max(1, samples);
    for (int i = 0; i < size; i++) {
      h = mix(h, Double.doubleToLongBits(tensor.get(sample * size + i)));
    }
    return h;
  }

  private static long fingerprint(long seed, InputArray array, int sample, int samples) {
    long h = seed;
    if (array instanceof InputArray.Numbers n) {
      return fingerprint(h, n.tensor(), sample, samples);
    }
    byte[][] values = ((InputArray.Strings) array).values();
    int size = values.length / Math.max(1, samples);
    for (int i = sample * size; i < sample * size + size; i++) {
      h = mix(h, values[i].length);
      for (byte b : values[i]) {
        h = mix(h, b);
      }
    }
    return h;
  }

  /** One step of a 64-bit hash: the running value and the next word, through SplitMix64's finalizer. */
  private static long mix(long h, long word) {
    long z = h * 0x9E3779B97F4A7C15L + word;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
