package dev.bncheck.engine;

import dev.bncheck.model.Tensor;

/**
 * Per-channel moments of one batch, computed over the raw array.
 *
 * <p>ND4J's general multi-axis reductions ran at a tenth of TensorFlow's speed on NHWC
 * activations, so this loop reads the buffer once, viewed as {@code [outer, channels, inner]}
 * for any rank and channel axis. It accumulates in double around a per-channel shift (the
 * channel's first value), which keeps the one-pass sum of squares stable when the mean is large
 * against the spread. Non-finite values are rare and only checked for when a channel's result
 * is not finite; that channel is then reduced again without them.
 */
public final class MomentsKernel {

  private MomentsKernel() {}

  public static ChannelMoments compute(Tensor batch, int channelAxis) {
    int[] shape = batch.shape();
    int channels = shape[channelAxis];
    long outerL = 1;
    for (int i = 0; i < channelAxis; i++) {
      outerL *= shape[i];
    }
    long innerL = 1;
    for (int i = channelAxis + 1; i < shape.length; i++) {
      innerL *= shape[i];
    }
    int outer = (int) outerL;
    int inner = (int) innerL;
    double[] shift = new double[channels];
    double[] sum = new double[channels];
    double[] sumSq = new double[channels];
    for (int c = 0; c < channels; c++) {
      double first = batch.get(c * inner);
      shift[c] = Double.isFinite(first) ? first : 0.0;
    }
    if (batch instanceof Tensor.Float32 f) {
      accumulate(f.data(), outer, channels, inner, shift, sum, sumSq);
    } else {
      accumulate(((Tensor.Float64) batch).data(), outer, channels, inner, shift, sum, sumSq);
    }
    long n = outerL * innerL;
    long[] count = new long[channels];
    double[] mean = new double[channels];
    double[] m2 = new double[channels];
    long[] nonFinite = new long[channels];
    for (int c = 0; c < channels; c++) {
      count[c] = n;
      mean[c] = shift[c] + sum[c] / n;
      m2[c] = Math.max(0.0, sumSq[c] - sum[c] * sum[c] / n);
      if (!Double.isFinite(mean[c]) || !Double.isFinite(m2[c])) {
        reduceFiniteOnly(batch, outer, channels, inner, c, count, mean, m2, nonFinite);
      }
    }
    return new ChannelMoments(count, mean, m2, nonFinite);
  }

  private static void accumulate(
      float[] x, int outer, int channels, int inner, double[] shift, double[] sum, double[] sumSq) {
    if (inner == 1) {
      for (int o = 0, base = 0; o < outer; o++, base += channels) {
        for (int c = 0; c < channels; c++) {
          double d = x[base + c] - shift[c];
          sum[c] += d;
          sumSq[c] += d * d;
        }
      }
      return;
    }
    for (int o = 0; o < outer; o++) {
      for (int c = 0; c < channels; c++) {
        int base = (o * channels + c) * inner;
        double k = shift[c];
        double s = 0;
        double q = 0;
        for (int i = base, end = base + inner; i < end; i++) {
          double d = x[i] - k;
          s += d;
          q += d * d;
        }
        sum[c] += s;
        sumSq[c] += q;
      }
    }
  }

  private static void accumulate(
      double[] x, int outer, int channels, int inner, double[] shift, double[] sum, double[] sumSq) {
    for (int o = 0; o < outer; o++) {
      for (int c = 0; c < channels; c++) {
        int base = (o * channels + c) * inner;
        double k = shift[c];
        double s = 0;
        double q = 0;
        for (int i = base, end = base + inner; i < end; i++) {
          double d = x[i] - k;
          s += d;
          q += d * d;
        }
        sum[c] += s;
        sumSq[c] += q;
      }
    }
  }

  /** Two-pass reduction of one channel over its finite values only. */
  private static void reduceFiniteOnly(
      Tensor batch, int outer, int channels, int inner, int c,
      long[] count, double[] mean, double[] m2, long[] nonFinite) {
    long n = 0;
    long bad = 0;
    double total = 0;
    for (int o = 0; o < outer; o++) {
      int base = (o * channels + c) * inner;
      for (int i = base; i < base + inner; i++) {
        double v = batch.get(i);
        if (Double.isFinite(v)) {
          n++;
          total += v;
        } else {
          bad++;
        }
      }
    }
    double mu = n == 0 ? Double.NaN : total / n;
    double sq = 0;
    for (int o = 0; o < outer; o++) {
      int base = (o * channels + c) * inner;
      for (int i = base; i < base + inner; i++) {
        double v = batch.get(i);
        if (Double.isFinite(v)) {
          sq += (v - mu) * (v - mu);
        }
      }
    }
    count[c] = n;
    mean[c] = n == 0 ? 0.0 : mu;
    m2[c] = sq;
    nonFinite[c] = bad;
  }
}
