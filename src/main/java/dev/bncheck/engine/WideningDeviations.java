package dev.bncheck.engine;

import java.nio.ByteBuffer;

/**
 * The kernel's inner loops on float32 values: each value, widened to double, less its shift, is
 * added to a sum and its square to a sum of squares. Each addition is fixed (a double subtraction,
 * addition and multiplication, no fused multiply-add), and so is the accumulator every value goes
 * to and the order in which it gets them, in terms of positions and never of the CPU's vector
 * width: every implementation gives the same bits.
 */
interface WideningDeviations {

  /**
   * Accumulators of one run of {@link #addRuns}: value {@code t} of the run goes to accumulator
   * {@code t % RUN_ACCUMULATORS}. Sixteen are four 256-bit vectors of doubles, or two of 512 bits:
   * enough independent additions to hide their latency, few enough to stay in registers.
   */
  int RUN_ACCUMULATORS = 16;

  /**
   * Streams the rows of {@link #addRows} are taken in: the rows are cut into this many quarters of
   * {@code rows / ROW_STREAMS} rows each (the rest after them), and step {@code r} takes row
   * {@code r} of every quarter, in quarter order. Each stream reads its quarter front to back, so
   * that the prefetcher follows it, and a lane's accumulators take four values per load and store.
   */
  int ROW_STREAMS = 4;

  /**
   * Rows of lanes: each row's value {@code x[from + row * width + j]} less {@code shift[j]} goes
   * to {@code sum[j]}, its square to {@code sumSq[j]}, for each lane {@code j < width}. With
   * {@code q = rows / ROW_STREAMS}, the rows come in the order of {@link #rowOrder}: for each
   * {@code r < q}, rows {@code r, q + r, 2q + r, 3q + r}; then rows {@code 4q} to {@code rows - 1}.
   */
  void addRows(float[] x, int from, int rows, double[] shift, double[] sum, double[] sumSq, int width);

  /**
   * Runs of one channel each: run {@code c < runs} is the {@code length} values from
   * {@code x[from + c * stride]}, less {@code shift[c]}. Value {@code t} of a run goes to
   * accumulator {@code t % RUN_ACCUMULATORS}, starting from zero; the accumulators are then added
   * in their order, and that run's sums to {@code sum[c]} and {@code sumSq[c]}.
   */
  void addRuns(float[] x, int from, int runs, int stride, int length, double[] shift, double[] sum, double[] sumSq);

  /**
   * {@link #addRows(float[], int, int, double[], double[], double[], int)} on float32 values in a
   * buffer of native byte order, value {@code i} at byte {@code 4 i}, in the same order.
   */
  void addRows(ByteBuffer x, int from, int rows, double[] shift, double[] sum, double[] sumSq, int width);

  /**
   * {@link #addRuns(float[], int, int, int, int, double[], double[], double[])} on float32 values in
   * a buffer of native byte order, value {@code i} at byte {@code 4 i}, in the same order.
   */
  void addRuns(ByteBuffer x, int from, int runs, int stride, int length, double[] shift, double[] sum, double[] sumSq);

  /** Row {@code i} of the order in which {@link #addRows} adds {@code rows} rows to each lane. */
  static int rowOrder(int i, int rows) {
    int quarter = rows / ROW_STREAMS;
    return i < ROW_STREAMS * quarter ? i % ROW_STREAMS * quarter + i / ROW_STREAMS : i;
  }

  /** Adds a run's accumulators, in their order, to channel {@code c}'s sums, and clears them. */
  static void addRunTo(double[] runSum, double[] runSq, int c, double[] sum, double[] sumSq) {
    double s = 0;
    double q = 0;
    for (int j = 0; j < RUN_ACCUMULATORS; j++) {
      s += runSum[j];
      q += runSq[j];
      runSum[j] = 0;
      runSq[j] = 0;
    }
    sum[c] += s;
    sumSq[c] += q;
  }
}
