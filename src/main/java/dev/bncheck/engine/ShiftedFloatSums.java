package dev.bncheck.engine;

import java.util.Arrays;

/**
 * Per-channel sums of the deviations of float32 values from a shift, and of their squares,
 * computed in float lanes that the JIT vectorizes and carried in double.
 *
 * <p>Java 17's JIT does not vectorize the float-to-double conversion, which bound the double
 * kernel to about one value per cycle. Here every value is handled in float arithmetic made
 * (nearly) exact by error-free transformations, and only the lanes' block sums are converted.
 *
 * <p><b>Error bound.</b> With u = 2^-24 (float32 unit roundoff), for a value x and shift p:
 * <ol>
 *   <li>{@code d = fl(x - p)} and its error {@code e} by Knuth's TwoSum: d + e = x - p exactly,
 *       |e| <= u|d|.
 *   <li>{@code d} is added to a lane's high sum s by TwoSum as well, so the high sum's rounding
 *       {@code r} is exact; {@code r + e} is added to the lane's low sum in plain float. With A
 *       the sum of |d| over the K values a lane takes between two folds, every partial sum, so
 *       every |r|, is at most uA, and the low sum's i-th partial sum at most (i + 1)uA: its
 *       roundings add up to at most (K^2 / 2 + 3K) u^2 A.
 *   <li>d^2 = dd + ddErr exactly (FMA), and (d + e)^2 = d^2 + 2de + e^2: {@code fma(2d, e, ddErr)}
 *       rounds by at most 3u^2 d^2 and e^2 <= u^2 d^2 is dropped, so with B the sum of d^2 the
 *       squares are summed as in 2. within (K^2 / 2 + 4K) u^2 B.
 * </ol>
 * Every {@link #BLOCK} values per lane the lanes are folded into double (one double rounding
 * each). So the sums of (x - p) and (x - p)^2 of a block are within
 * {@link #BLOCK_RELATIVE_ERROR} = (K^2 / 2 + 4K) u^2, 2.3e-13 for K = 8, of A and B; across
 * blocks the double sums add what the double kernel's lanes always did (a few ulps of double
 * per block). This is below the 1e-12 the engine tests hold the kernel to against ND4J and
 * exact references, and it is relative to the deviations from the shift, so a channel far from
 * zero keeps its precision.
 *
 * <p>The bound needs the squares not to underflow: a nonzero |d| below 2^-63 squares to a
 * subnormal or zero. Such deviations are only possible between values below 2^-39, so they
 * matter only for a channel whose mean square deviation is tiny too; {@link #lostToUnderflow}
 * tells the caller to reduce such a channel in double. A channel whose values all equal its
 * shift is exact and is recognised by its zero sum of |d|. Overflow (|d| above about 1.8e19)
 * makes the sums infinite, and the caller reduces that channel in double too.
 */
record ShiftedFloatSums(double[] sum, double[] sumOfSquares, boolean[] constant) {

  /**
   * Values each lane takes between folds into double: K in the error bound above. On
   * [64,56,56,256] float32, folding every 8, 16 or 32 values made no difference that the noise of
   * a shared machine let show, so the smallest bound was kept.
   */
  static final int BLOCK = 8;

  /** (K^2 / 2 + 4K) u^2 for K = {@link #BLOCK}: see the class comment. */
  static final double BLOCK_RELATIVE_ERROR = (BLOCK * BLOCK / 2.0 + 4 * BLOCK) * 0x1p-48;

  /**
   * Float lanes the loop works on at once when the layout allows (rows of few channels are taken
   * several at a time): long enough for the vectorized loop to pay off, short enough for all
   * lane arrays to stay in the L1 cache.
   */
  private static final int LANES = 256;

  /**
   * Below n times this sum of squared deviations, lost subnormal squares (at most 2^-126 each)
   * could exceed {@link #BLOCK_RELATIVE_ERROR} of it.
   */
  private static final double SMALLEST_SAFE_MEAN_SQUARE = 0x1p-80;

  /** Whether channel c's sum of squares may have lost underflowed squares of its n values. */
  boolean lostToUnderflow(int c, long n) {
    return !constant[c] && sumOfSquares[c] < n * SMALLEST_SAFE_MEAN_SQUARE;
  }

  /**
   * Channels are the last axis: row {@code r} of {@code x} holds one value of every channel, and
   * rows [from, to) are summed. Lane j sums channel j % channels.
   */
  static ShiftedFloatSums channelsLast(float[] x, int channels, int from, int to, double[] shift) {
    int rowsAtOnce = Math.max(1, LANES / channels);
    int width = rowsAtOnce * channels;
    Lanes lanes = new Lanes(width);
    for (int j = 0; j < width; j++) {
      lanes.minusShift[j] = (float) -shift[j % channels];
    }
    for (int r = from; r < to; r += rowsAtOnce) {
      lanes.add(x, r * channels, Math.min(rowsAtOnce, to - r) * channels);
    }
    lanes.fold();
    ShiftedFloatSums sums = new ShiftedFloatSums(new double[channels], new double[channels], new boolean[channels]);
    Arrays.fill(sums.constant, true);
    for (int j = 0; j < width; j++) {
      sums.take(j % channels, lanes, j);
    }
    return sums;
  }

  /**
   * Channels come before other axes: {@code x} is {@code [outer, channels, inner]} and positions
   * [from, to) of each channel are summed, a position being {@code outer index * inner + inner
   * index}. Each channel is summed on its own, its runs of values one after another, so that
   * lanes are folded only every {@link #BLOCK} full widths however short the runs are.
   */
  static ShiftedFloatSums channelsFirst(float[] x, int channels, int inner, int from, int to, double[] shift) {
    int width = Math.min(LANES, inner);
    Lanes lanes = new Lanes(width);
    ShiftedFloatSums sums = new ShiftedFloatSums(new double[channels], new double[channels], new boolean[channels]);
    Arrays.fill(sums.constant, true);
    for (int c = 0; c < channels; c++) {
      Arrays.fill(lanes.minusShift, (float) -shift[c]);
      for (int o = from / inner, last = (to - 1) / inner; o <= last; o++) {
        int start = Math.max(from - o * inner, 0);
        int end = Math.min(to - o * inner, inner);
        int base = (o * channels + c) * inner;
        for (int i = start; i < end; i += width) {
          lanes.add(x, base + i, Math.min(width, end - i));
        }
      }
      lanes.fold();
      for (int j = 0; j < width; j++) {
        sums.take(c, lanes, j);
      }
      lanes.clear();
    }
    return sums;
  }

  private void take(int c, Lanes lanes, int lane) {
    sum[c] += lanes.foldedSum[lane];
    sumOfSquares[c] += lanes.foldedSquares[lane];
    constant[c] &= lanes.magnitude[lane] == 0;
  }

  /** Float accumulators, one per lane, each taking at most one value per {@link #add}. */
  private static final class Lanes {
    final float[] minusShift;
    private final float[] values;
    /** d = fl(x - shift) and its rounding error, x - shift - d, of the values being added. */
    private final float[] deviation;
    private final float[] deviationError;
    private final float[] high;
    private final float[] low;
    private final float[] squaresHigh;
    private final float[] squaresLow;
    /** Sum of |d| over the whole range: zero exactly when every value equals its shift. */
    final float[] magnitude;
    final double[] foldedSum;
    final double[] foldedSquares;
    private int taken;

    Lanes(int width) {
      minusShift = new float[width];
      values = new float[width];
      deviation = new float[width];
      deviationError = new float[width];
      high = new float[width];
      low = new float[width];
      squaresHigh = new float[width];
      squaresLow = new float[width];
      magnitude = new float[width];
      foldedSum = new double[width];
      foldedSquares = new double[width];
    }

    /**
     * Adds x[from + j] to lane j for j < length. Three loops rather than one: Java 17's JIT
     * vectorizes a loop only if its body, unrolled to the vector width, stays within its unroll
     * limit, which the whole computation exceeds (it then ran at a tenth of the speed), and
     * only if every array is indexed from the same origin, hence the copy of the values.
     */
    void add(float[] x, int from, int length) {
      float[] values = this.values;
      float[] minusShift = this.minusShift;
      float[] deviation = this.deviation;
      float[] deviationError = this.deviationError;
      float[] magnitude = this.magnitude;
      System.arraycopy(x, from, values, 0, length);
      for (int j = 0; j < length; j++) {
        float v = values[j];
        float k = minusShift[j];
        float d = v + k;
        float dv = d - v;
        deviationError[j] = (v - (d - dv)) + (k - dv);
        deviation[j] = d;
        magnitude[j] += Math.abs(d);
      }
      float[] high = this.high;
      float[] low = this.low;
      for (int j = 0; j < length; j++) {
        float d = deviation[j];
        float s = high[j];
        float t = s + d;
        float ts = t - s;
        low[j] += ((s - (t - ts)) + (d - ts)) + deviationError[j];
        high[j] = t;
      }
      float[] squaresHigh = this.squaresHigh;
      float[] squaresLow = this.squaresLow;
      for (int j = 0; j < length; j++) {
        float d = deviation[j];
        float dd = d * d;
        float ddError = Math.fma(d, d, -dd);
        float q = squaresHigh[j];
        float u = q + dd;
        float uq = u - q;
        squaresLow[j] += ((q - (u - uq)) + (dd - uq)) + Math.fma(d + d, deviationError[j], ddError);
        squaresHigh[j] = u;
      }
      if (++taken == BLOCK) {
        fold();
      }
    }

    void fold() {
      for (int j = 0; j < high.length; j++) {
        foldedSum[j] += (double) high[j] + low[j];
        foldedSquares[j] += (double) squaresHigh[j] + squaresLow[j];
      }
      Arrays.fill(high, 0);
      Arrays.fill(low, 0);
      Arrays.fill(squaresHigh, 0);
      Arrays.fill(squaresLow, 0);
      taken = 0;
    }

    void clear() {
      Arrays.fill(magnitude, 0);
      Arrays.fill(foldedSum, 0);
      Arrays.fill(foldedSquares, 0);
    }
  }
}
