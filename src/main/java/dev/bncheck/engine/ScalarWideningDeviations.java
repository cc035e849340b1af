package dev.bncheck.engine;

/**
 * {@link WideningDeviations} in plain Java. The JIT of Java 17 vectorizes neither the
 * float-to-double conversion nor loops that mix an offset array index with unshifted ones, so
 * values are first widened into a buffer (a scalar loop), and the deviations are then accumulated
 * by a loop it does vectorize. Holds its buffer: one instance per thread.
 */
final class ScalarWideningDeviations implements WideningDeviations {

  private final double[] buffer;

  /** For runs of at most {@code width} values. */
  ScalarWideningDeviations(int width) {
    buffer = new double[width];
  }

  @Override
  public void add(float[] x, int from, double[] shift, double[] sum, double[] sumSq, int length) {
    widen(x, from, length);
    add(buffer, shift, sum, sumSq, length);
  }

  @Override
  public void add(float[] x, int from, double shift, double[] sum, double[] sumSq, int length) {
    widen(x, from, length);
    add(buffer, shift, sum, sumSq, length);
  }

  private void widen(float[] x, int from, int length) {
    for (int j = 0; j < length; j++) {
      buffer[j] = x[from + j];
    }
  }

  /** The deviations of values already in double, indexed from zero as the lanes are. */
  static void add(double[] values, double[] shift, double[] sum, double[] sumSq, int length) {
    for (int j = 0; j < length; j++) {
      double d = values[j] - shift[j];
      sum[j] += d;
      sumSq[j] += d * d;
    }
  }

  static void add(double[] values, double shift, double[] sum, double[] sumSq, int length) {
    for (int j = 0; j < length; j++) {
      double d = values[j] - shift;
      sum[j] += d;
      sumSq[j] += d * d;
    }
  }
}
