package dev.bncheck.load.array;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How many samples differ in at least one input: a file of 4 images repeated 64 times holds 256
 * samples but the information of 4, and statistics judged as if there were 256 claim a precision
 * the data does not have.
 */
public final class DistinctSamples {

  private DistinctSamples() {}

  /** Distinct samples along the first axis of every input (the inputs share that axis). */
  public static long count(Map<String, InputArray> data) {
    if (data.isEmpty() || data.values().iterator().next().shape().length == 0) {
      return 0;
    }
    int samples = data.values().iterator().next().shape()[0];
    Set<List<Row>> distinct = new HashSet<>();
    for (int i = 0; i < samples; i++) {
      int sample = i;
      distinct.add(data.values().stream().map(a -> Row.of(a, sample, samples)).toList());
    }
    return distinct.size();
  }

  /** One sample's values in one input, compared by content. */
  private record Row(double[] numbers, byte[][] strings) {

    static Row of(InputArray array, int sample, int samples) {
      if (array instanceof InputArray.Numbers n) {
        int size = n.tensor().size() / Math.max(1, samples);
        double[] out = new double[size];
        for (int i = 0; i < size; i++) {
          out[i] = n.tensor().get(sample * size + i);
        }
        return new Row(out, null);
      }
      byte[][] values = ((InputArray.Strings) array).values();
      int size = values.length / Math.max(1, samples);
      return new Row(null, Arrays.copyOfRange(values, sample * size, sample * size + size));
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Row r && Arrays.equals(numbers, r.numbers) && Arrays.deepEquals(strings, r.strings);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.hashCode(numbers) + Arrays.deepHashCode(strings);
    }
  }
}
