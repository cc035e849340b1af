package dev.bncheck.engine;

/**
 * The kernel's inner loop on float32 values: for each lane {@code j < length}, the value
 * {@code x[from + j]} widened to double, less the lane's shift, is added to {@code sum[j]} and its
 * square to {@code sumSq[j]}. Each lane's arithmetic is fixed (a double subtraction, addition and
 * multiplication, no fused multiply-add), so every implementation gives the same bits.
 */
interface WideningDeviations {

  void add(float[] x, int from, double[] shift, double[] sum, double[] sumSq, int length);

  void add(float[] x, int from, double shift, double[] sum, double[] sumSq, int length);
}
