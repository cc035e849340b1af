package dev.bncheck.load.array;

import dev.bncheck.model.Numbers;
import dev.bncheck.model.Tensor;
import java.util.Optional;

/**
 * Data for a model's integer or boolean input: whole numbers within the input type's range that
 * the data's tensor holds exactly. Integer arrays of up to 16 bits arrive as float32, exact up to
 * 2^24, and those of 32 and 64 bits as float64, exact up to 2^53 (NpyReader); beyond that an index
 * or id may already have been rounded to another, so it is refused rather than fed wrong. A
 * fraction means float data for an integer input, which a runtime would truncate silently.
 */
public final class WholeNumbers {

  private static final double FLOAT32_EXACT = 0x1p24;
  private static final double FLOAT64_EXACT = 0x1p53;

  private WholeNumbers() {}

  /**
   * Why the data does not fit an input taking whole numbers in [min, max]: the first value that
   * does not and the reason, as "the data holds V, REASON"; empty when every value fits.
   */
  public static Optional<String> misfit(Tensor t, double min, double max) {
    boolean float32 = t instanceof Tensor.Float32;
    double exact = float32 ? FLOAT32_EXACT : FLOAT64_EXACT;
    for (int i = 0; i < t.size(); i++) {
      double v = t.get(i);
      String why = v != Math.rint(v) ? "not a whole number"
          : v < min || v > max ? "outside " + whole(min) + ".." + whole(max)
          : Math.abs(v) > exact ? (float32 ? "beyond 2^24, the largest integer float32 data holds exactly (give an"
              + " .npy of an integer dtype)" : "beyond 2^53, the largest integer bncheck keeps exact")
          : null;
      if (why != null) {
        // a value beyond the exact range was rounded when it was read: it is not the file's
        return Optional.of("the data holds " + (Math.abs(v) > exact ? "about " : "") + whole(v) + ", " + why);
      }
    }
    return Optional.empty();
  }

  private static String whole(double v) {
    return v == Math.rint(v) && Math.abs(v) < 0x1p63 ? Long.toString((long) v) : Numbers.brief(v);
  }
}
