package dev.bncheck.engine;

import java.nio.ByteBuffer;

/**
 * {@link WideningDeviations} in plain Java. The JIT of Java 17 vectorizes neither the
 * float-to-double conversion nor loops that mix an offset array index with unshifted ones, so
 * values are first widened into a buffer (a scalar loop), and the deviations are then accumulated
 * by a loop indexed from zero. Holds its buffer: one instance per thread.
 */
final class ScalarWideningDeviations implements WideningDeviations {

  /** Values of a run widened at once; a multiple of the run's accumulators. */
  static final int RUN_CHUNK = 8 * RUN_ACCUMULATORS;

  private final double[] buffer;

  /** For rows of at most {@code width} values. */
  ScalarWideningDeviations(int width) {
    buffer = new double[Math.max(width, RUN_CHUNK)];
  }

  @Override
  public void addRows(float[] x, int from, int rows, double[] shift, double[] sum, double[] sumSq, int width) {
    addRows((at, length) -> widen(x, at, length), from, rows, shift, sum, sumSq, width);
  }

  @Override
  public void addRuns(float[] x, int from, int runs, int stride, int length, double[] shift, double[] sum, double[] sumSq) {
    addRuns((at, count) -> widen(x, at, count), from, runs, stride, length, shift, sum, sumSq);
  }

  @Override
  public void addRows(ByteBuffer x, int from, int rows, double[] shift, double[] sum, double[] sumSq, int width) {
    addRows((at, length) -> widen(x, at, length), from, rows, shift, sum, sumSq, width);
  }

  @Override
  public void addRuns(ByteBuffer x, int from, int runs, int stride, int length, double[] shift, double[] sum,
      double[] sumSq) {
    addRuns((at, count) -> widen(x, at, count), from, runs, stride, length, shift, sum, sumSq);
  }

  /**
   * Widens {@code length} values from position {@code from} of an array or a buffer into the
   * buffer of this instance: one call per row or chunk, so that the loops below serve both.
   */
  private interface Widening {
    void widen(int from, int length);
  }

  private void addRows(Widening source, int from, int rows, double[] shift, double[] sum, double[] sumSq, int width) {
    for (int i = 0; i < rows; i++) {
      source.widen(from + WideningDeviations.rowOrder(i, rows) * width, width);
      addLanes(buffer, shift, sum, sumSq, width);
    }
  }

  private void addRuns(Widening source, int from, int runs, int stride, int length, double[] shift, double[] sum,
      double[] sumSq) {
    double[] runSum = new double[RUN_ACCUMULATORS];
    double[] runSq = new double[RUN_ACCUMULATORS];
    for (int c = 0; c < runs; c++) {
      int start = from + c * stride;
      for (int t = 0; t < length; t += RUN_CHUNK) {
        int chunk = Math.min(RUN_CHUNK, length - t);
        source.widen(start + t, chunk);
        addRun(buffer, 0, shift[c], runSum, runSq, chunk);
      }
      WideningDeviations.addRunTo(runSum, runSq, c, sum, sumSq);
    }
  }

  /** {@link #addRuns} on values already in double, which need no widening. */
  static void addRuns(double[] x, int from, int runs, int stride, int length, double[] shift, double[] sum, double[] sumSq) {
    double[] runSum = new double[RUN_ACCUMULATORS];
    double[] runSq = new double[RUN_ACCUMULATORS];
    for (int c = 0; c < runs; c++) {
      addRun(x, from + c * stride, shift[c], runSum, runSq, length);
      WideningDeviations.addRunTo(runSum, runSq, c, sum, sumSq);
    }
  }

  private void widen(float[] x, int from, int length) {
    for (int j = 0; j < length; j++) {
      buffer[j] = x[from + j];
    }
  }

  private void widen(ByteBuffer x, int from, int length) {
    for (int j = 0; j < length; j++) {
      buffer[j] = x.getFloat((from + j) * Float.BYTES);
    }
  }

  /** One row of values already in double, indexed from zero as the lanes are. */
  static void addLanes(double[] values, double[] shift, double[] sum, double[] sumSq, int width) {
    for (int j = 0; j < width; j++) {
      double d = values[j] - shift[j];
      sum[j] += d;
      sumSq[j] += d * d;
    }
  }

  /**
   * The {@code length} values from {@code values[from]}, value {@code t} to accumulator
   * {@code t % RUN_ACCUMULATORS}; a longer run comes in pieces that start at multiples of that.
   */
  private static void addRun(double[] values, int from, double shift, double[] sum, double[] sumSq, int length) {
    for (int t = 0; t < length; t++) {
      double d = values[from + t] - shift;
      sum[t % RUN_ACCUMULATORS] += d;
      sumSq[t % RUN_ACCUMULATORS] += d * d;
    }
  }
}
