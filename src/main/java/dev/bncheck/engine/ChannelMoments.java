package dev.bncheck.engine;

/**
 * Per-channel count, mean and sum of squared deviations (M2) of a set of activations, with the
 * count of non-finite values that were left out. Two sets merge exactly (Chan et al.), so
 * calibration data can be reduced batch by batch, or in parallel, and combined.
 */
public record ChannelMoments(long[] count, double[] mean, double[] m2, long[] nonFinite) {

  public ChannelMoments {
    int c = count.length;
    if (mean.length != c || m2.length != c || nonFinite.length != c) {
      throw new IllegalArgumentException("moment vectors differ in length");
    }
  }

  public static ChannelMoments empty(int channels) {
    return new ChannelMoments(new long[channels], new double[channels], new double[channels], new long[channels]);
  }

  public int channels() {
    return count.length;
  }

  /** The variance with divisor n, as BN normalizes with in training mode. */
  public double biasedVariance(int channel) {
    return count[channel] == 0 ? Double.NaN : m2[channel] / count[channel];
  }

  /** The variance with divisor n - 1, as TF and PyTorch feed into their moving averages. */
  public double unbiasedVariance(int channel) {
    return count[channel] < 2 ? Double.NaN : m2[channel] / (count[channel] - 1);
  }

  public long totalNonFinite() {
    long total = 0;
    for (long n : nonFinite) {
      total += n;
    }
    return total;
  }

  /** The moments of the union of both sets. */
  public ChannelMoments merge(ChannelMoments other) {
    int c = channels();
    if (other.channels() != c) {
      throw new IllegalArgumentException("cannot merge moments of " + c + " and " + other.channels() + " channels");
    }
    long[] n = new long[c];
    double[] mu = new double[c];
    double[] sq = new double[c];
    long[] bad = new long[c];
    for (int i = 0; i < c; i++) {
      long na = count[i];
      long nb = other.count[i];
      n[i] = na + nb;
      bad[i] = nonFinite[i] + other.nonFinite[i];
      if (na == 0 || nb == 0) {
        mu[i] = na == 0 ? other.mean[i] : mean[i];
        sq[i] = na == 0 ? other.m2[i] : m2[i];
        continue;
      }
      double delta = other.mean[i] - mean[i];
      double total = (double) n[i];
      mu[i] = mean[i] + delta * (nb / total);
      sq[i] = m2[i] + other.m2[i] + delta * delta * ((double) na * nb / total);
    }
    return new ChannelMoments(n, mu, sq, bad);
  }
}
