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

  /**
   * Four hashes, value {@code i} of the sample to hash {@code i % 4}, then mixed in their order:
   * one hash's steps depend on each other, and four run at once; over a ResNet-50's 256 inputs
   * of 224x224x3 one took 0.17 s, which the start of a check spends beside the parse of the
   * model (issue #19).
   */
  private static long fingerprint(long seed, Tensor tensor, int sample, int samples) {
    int size = tensor.size() / Math.max(1, samples);
    int from = sample * size;
    long h0 = seed;
    long h1 = seed + 0x632BE59BD9B4E019L;
    long h2 = seed + 0x8CB92BA72F3D8DD7L;
    long h3 = seed + 0xB4E0B4E0B4E0B4E1L;
    int whole = size - size % 4;
    if (tensor instanceof Tensor.Float32 f) {
      float[] x = f.data();
      for (int i = from, end = from + whole; i < end; i += 4) {
        h0 = mix(h0, Double.doubleToLongBits(x[i]));
        h1 = mix(h1, Double.doubleToLongBits(x[i + 1]));
        h2 = mix(h2, Double.doubleToLongBits(x[i + 2]));
        h3 = mix(h3, Double.doubleToLongBits(x[i + 3]));
      }
    } else {
      for (int i = from, end = from + whole; i < end; i += 4) {
        h0 = mix(h0, Double.doubleToLongBits(tensor.get(i)));
        h1 = mix(h1, Double.doubleToLongBits(tensor.get(i + 1)));
        h2 = mix(h2, Double.doubleToLongBits(tensor.get(i + 2)));
        h3 = mix(h3, Double.doubleToLongBits(tensor.get(i + 3)));
      }
    }
    for (int i = from + whole; i < from + size; i++) {
      h0 = mix(h0, Double.doubleToLongBits(tensor.get(i)));
    }
    return mix(mix(mix(h0, h1), h2), h3);
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
