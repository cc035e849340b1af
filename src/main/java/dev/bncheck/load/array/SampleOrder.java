package dev.bncheck.load.array;

import dev.bncheck.model.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Puts calibration samples in a fixed pseudo-random order, the same permutation for every input
 * of the model, so that each batch is a sample of the whole file whatever the file's order.
 */
public final class SampleOrder {

  /** Fixed so that two runs on the same file form the same batches and give the same report. */
  static final long SEED = 0x626e636865636bL;

  private SampleOrder() {}

  public static Map<String, InputArray> shuffled(Map<String, InputArray> data) {
    int samples = InputArray.samples(data);
    // arrays that disagree on the samples are refused where they are matched to the model's inputs
    if (samples < 0 || !InputArray.agree(data, samples)) {
      return data;
    }
    int[] order = permutation(samples);
    Map<String, InputArray> out = new LinkedHashMap<>();
    data.forEach((name, array) -> out.put(name, array.perRun() ? array : array instanceof InputArray.Numbers n
        ? new InputArray.Numbers(rows(n.tensor(), order))
        : new InputArray.Strings(array.shape(), rows((InputArray.Strings) array, order))));
    return out;
  }

  /**
   * A Fisher-Yates shuffle of 0..n-1 with the fixed seed: the order {@link #shuffled} puts n
   * samples in, for a loader that reads the rows in place.
   */
  public static int[] permutation(int n) {
    return permutation(n, SEED);
  }

  /** A Fisher-Yates shuffle of 0..n-1 with the given seed. */
  public static int[] permutation(int n, long seed) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  /** The most file samples {@link #describe} lists. */
  private static final int LISTED_SAMPLES = 8;

  /**
   * The samples of a run of {@code count} from position {@code start}, as the user finds them in
   * the data: the file's rows where the samples are read in {@code order} (a run's positions in
   * that order name other samples than the ones that failed), sorted, the first few of a larger
   * run; the positions themselves where {@code order} is null (the file's order).
   */
  public static String describe(int[] order, int start, int count) {
    String positions = count == 1 ? "position " + start : "positions " + start + " to " + (start + count - 1);
    if (order == null) {
      return count == 1 ? "sample " + start : "samples " + start + " to " + (start + count - 1);
    }
    int[] rows = new int[count];
    for (int i = 0; i < count; i++) {
      rows[i] = order[start + i];
    }
    Arrays.sort(rows);
    StringBuilder listed = new StringBuilder();
    for (int i = 0; i < Math.min(count, LISTED_SAMPLES); i++) {
      listed.append(i == 0 ? "" : ", ").append(rows[i]);
    }
    return (count == 1 ? "sample " : "samples ") + listed + (count > LISTED_SAMPLES ? ", ... (" + count + " in all)" : "")
        + " of the data (in the shuffled order of --batch-order, " + positions + ")";
  }

  private static byte[][] rows(InputArray.Strings strings, int[] order) {
    byte[][] in = strings.values();
    checkSamples(strings.shape(), order);
    int row = order.length == 0 ? 0 : in.length / order.length;
    byte[][] out = new byte[in.length][];
    for (int i = 0; i < order.length; i++) {
      System.arraycopy(in, order[i] * row, out, i * row, row);
    }
    return out;
  }

  private static void checkSamples(int[] shape, int[] order) {
    if (shape.length == 0 || shape[0] != order.length) {
      throw new IllegalArgumentException("inputs differ in their number of samples");
    }
  }

  private static Tensor rows(Tensor t, int[] order) {
    int[] shape = t.shape();
    checkSamples(shape, order);
    int row = order.length == 0 ? 0 : t.size() / order.length;
    if (t instanceof Tensor.Float32 f) {
      float[] out = new float[f.data().length];
      for (int i = 0; i < order.length; i++) {
        System.arraycopy(f.data(), order[i] * row, out, i * row, row);
      }
      return new Tensor.Float32(shape, out);
    }
    double[] in = ((Tensor.Float64) t).data();
    double[] out = new double[in.length];
    for (int i = 0; i < order.length; i++) {
      System.arraycopy(in, order[i] * row, out, i * row, row);
    }
    return new Tensor.Float64(shape, out);
  }
}
