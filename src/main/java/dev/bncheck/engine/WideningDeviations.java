package dev.bncheck.engine;

/**
 * The kernel's inner loops on float32 values: each value, widened to double, less its shift, is
 * added to a sum and its square to a sum of squares. Each addition is fixed (a double subtraction,
 * addition and multiplication, no fused multiply-add), and so is the accumulator every value goes
 * to and the order in which it gets them, in terms of positions and never of the CPU's vector
 * width: every implementation gives the same bits.
 */
interface WideningDeviations {

  /**
   * Accumulators of one run of {@link #addRun}: value {@code t} of the run goes to accumulator
   * {@code t % RUN_ACCUMULATORS}. Sixteen are four 256-bit vectors of doubles, or two of 512 bits:
   * enough independent additions to hide their latency, few enough to stay in registers.
   */
  int RUN_ACCUMULATORS = 16;

  /**
   * Rows of lanes: for each row {@code r < rows}, in order, and each lane {@code j < width}, the
   * value {@code x[from + r * width + j]} less {@code shift[j]} goes to {@code sum[j]}, its square
   * to {@code sumSq[j]}.
   */
  void addRows(float[] x, int from, int rows, double[] shift, double[] sum, double[] sumSq, int width);

  /**
   * One run: for {@code t < length}, in order, the value {@code x[from + t]} less {@code shift}
   * goes to {@code sum[t % RUN_ACCUMULATORS]}, its square to {@code sumSq[t % RUN_ACCUMULATORS]}.
   */
  void addRun(float[] x, int from, double shift, double[] sum, double[] sumSq, int length);
}
