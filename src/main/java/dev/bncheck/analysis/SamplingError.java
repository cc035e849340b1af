package dev.bncheck.analysis;

/**
 * How far a statistic estimated from calibration data may be from the truth by chance, and so
 * whether a difference from a threshold is real. The policy and its maths are in
 * docs/findings.md ("When a difference counts").
 *
 * <p>The unit of independence is the sample, not the value: the values of one image in one
 * channel are correlated, so counting them all would claim a precision the data does not have.
 * With N independent samples, the mean of a channel has a standard error of at most sigma /
 * sqrt(N), however the values inside one sample are correlated, because the variance of a mean of
 * correlated values never exceeds their variance. The logarithm of a variance estimate has a
 * standard error of about sqrt(2 / (N - 1)) for normal data.
 *
 * <p>The moving statistics are estimates too: an exponential average of batch statistics rests on
 * the samples of its last few batches only ({@link MovingAverageNoise}), and a healthy model's
 * moving variance of heavy-tailed data is as uncertain as a calibration set of that size. Both
 * errors add in quadrature; without the second, more calibration data made false errors more
 * likely, not less.
 *
 * @param samples independent samples behind the estimates (at least 2)
 * @param z the one-sided critical value: the family-wise false-alarm rate divided among all the
 *     channel tests of the model (Bonferroni)
 * @param averagedSamples the samples the moving statistics rest on, as an estimate of the
 *     population ({@link MovingAverageNoise}); infinite where they are not compared or not noisy
 */
public record SamplingError(long samples, double z, double averagedSamples) {

  /** The fix of a finding that too little data could not decide. */
  public static final String FIX_MORE_DATA =
      "run check again with more calibration samples (--inputs), drawn like the training data.";

  /** The family-wise rate of false alarms a healthy model may get from one run. */
  public static final double FAMILY_WISE_ALPHA = 0.01;

  /**
   * Below this many samples the normal approximations behind the tests do not hold, and the
   * statistical checks do not run.
   */
  public static final long MIN_SAMPLES = 8;

  public SamplingError {
    if (samples < 2) {
      throw new IllegalArgumentException("a sampling error needs at least 2 samples, got " + samples);
    }
    if (!(z > 0) || Double.isInfinite(z)) {
      throw new IllegalArgumentException("critical value must be positive, got " + z);
    }
    if (!(averagedSamples > 1)) {
      throw new IllegalArgumentException("a moving average rests on more than one sample, got " + averagedSamples);
    }
  }

  /** The policy for {@code tests} one-sided tests sharing the family-wise rate; the calibration data's error alone. */
  public static SamplingError of(long samples, long tests) {
    return new SamplingError(samples, criticalValue(FAMILY_WISE_ALPHA / Math.max(1, tests)), Double.POSITIVE_INFINITY);
  }

  /** This policy for comparing the calibration data with the moving statistics of {@code layer}. */
  public SamplingError withMovingAverageOf(dev.bncheck.model.BnLayer layer) {
    return new SamplingError(samples, z, MovingAverageNoise.equivalentSamples(layer));
  }

  /** Standard error of a standardized mean shift. */
  public double meanShiftError() {
    return Math.sqrt(1.0 / samples + 1.0 / averagedSamples);
  }

  /** Standard error of the natural logarithm of a variance ratio, for normal data. */
  public double logVarianceRatioError() {
    return Math.sqrt(2.0 / (samples - 1) + 2.0 / averagedSamples);
  }

  /** Whether |shift| is beyond {@code threshold} by more than chance explains. */
  public boolean meanShiftBeyond(double shift, double threshold) {
    return Math.abs(shift) - threshold > z * meanShiftError();
  }

  /** Whether a ratio is beyond {@code limit} (or below 1 / limit) by more than chance explains. */
  public boolean varianceRatioBeyond(double ratio, double limit) {
    return varianceRatioBeyond(ratio, limit, 1.0);
  }

  /**
   * The same, with the standard error widened by {@code inflation}: the normal-theory error
   * understates how much a variance estimate of skewed or heavy-tailed data varies.
   */
  public boolean varianceRatioBeyond(double ratio, double limit, double inflation) {
    return Math.abs(Math.log(ratio)) - Math.log(limit) > z * inflation * logVarianceRatioError();
  }

  /**
   * Whether the moving statistics' own noise, at this policy's confidence, reaches a variance
   * ratio of {@code ratioLimit} for data whose log variance varies {@code inflation} times as much as
   * normal data's: then a healthy model's moving variance is this far from the population's by
   * chance, and no amount of calibration data decides whether a difference that size is real. At
   * PyTorch's momentum 0.1 (an average of about 608 samples) that is an inflation of 3.4 for the
   * error ratio of 2, a kurtosis of about 24; at Keras's 0.99, 11.
   */
  public boolean movingAverageAloneReaches(double ratioLimit, double inflation) {
    return inflation >= judgeableTails(ratioLimit);
  }

  /**
   * Whether tails measured on enough sets ({@code tailsMeasured}) are too heavy to judge the moving
   * variances against {@code ratioLimit}: {@link #movingAverageAloneReaches} at the channels' median
   * inflation.
   */
  public boolean tailsTooHeavyToJudge(boolean tailsMeasured, double[] inflation, double ratioLimit) {
    return tailsMeasured && movingAverageAloneReaches(ratioLimit, ChannelList.median(inflation));
  }

  /**
   * The heaviest tails, as an inflation, at which the moving statistics can still be judged against
   * {@code ratioLimit}: ln(limit) / (z sqrt(2 / M)); infinite where the moving statistics are not noisy.
   */
  public double judgeableTails(double ratioLimit) {
    return Math.log(ratioLimit) / (z * Math.sqrt(2.0 / averagedSamples));
  }

  /**
   * The inflation of each channel's variance test, allowing in the channels whose data is narrower
   * than the moving variance for tails the data has not shown, up to the heaviest that can be judged
   * at all ({@link #judgeableTails}), when there are too few batches to measure them. A sample that
   * misses the rare extreme values of heavy-tailed data is narrower than the data the moving
   * variance averaged, and nothing in it shows what it missed; a sample that holds one is wider, and
   * its sets' spread shows the tails. A healthy model of Student-t data with rare extreme rows got
   * BN003 errors at variance ratios of 8 to 17 on 32 and 64 such samples.
   */
  public double[] allowingUnseenTails(double[] inflation, double[] varianceRatio, boolean tailsMeasured,
      double ratioLimit) {
    double unseen = judgeableTails(ratioLimit);
    double[] out = inflation.clone();
    if (tailsMeasured || !Double.isFinite(unseen)) {
      return out;
    }
    for (int c = 0; c < out.length; c++) {
      if (varianceRatio[c] > 1) {
        out[c] = Math.max(out[c], unseen);
      }
    }
    return out;
  }

  /** One set holding more than this share of a channel's spread rests its variance on one extreme value. */
  static final double ONE_SET_SHARE = 0.5;

  /**
   * Per channel, whether one set (a batch, or a group of samples below four batches) holds more
   * than half of the channel's spread: the data's variance then rests on one extreme value, which
   * shows that the tails are heavy but not how heavy, as the sets' spread is at the most it can
   * show. A healthy model's channel 170 times wider than its moving variance, through one extreme
   * row among 64 samples of Student-t data, was a BN003 error.
   */
  public static boolean[] heldByOneSet(dev.bncheck.engine.LayerCalibration calibration) {
    java.util.List<dev.bncheck.engine.ChannelMoments> sets = TailSets.of(calibration).sets();
    int channels = calibration.population().channels();
    boolean[] out = new boolean[channels];
    for (int c = 0; c < channels; c++) {
      double total = 0;
      double largest = 0;
      for (var set : sets) {
        double m2 = set.m2()[c];
        if (Double.isFinite(m2)) {
          total += m2;
          largest = Math.max(largest, m2);
        }
      }
      out[c] = total > 0 && largest > ONE_SET_SHARE * total;
    }
    return out;
  }

  /**
   * Per channel, whether the data is wider than the statistics through one extreme value ({@link
   * #heldByOneSet}): its tails are beyond measure, for BN003's variance test and BN004's modes alike.
   */
  static boolean[] widerThroughOneValue(dev.bncheck.engine.LayerCalibration calibration,
      dev.bncheck.engine.DivergenceMetrics m) {
    boolean[] out = heldByOneSet(calibration);
    for (int c = 0; c < out.length; c++) {
      out[c] &= m.varianceRatio()[c] < 1;
    }
    return out;
  }

  /** Whether the data arrived in enough batches for their spread to measure its tails. */
  public static boolean tailsMeasured(dev.bncheck.engine.LayerCalibration calibration) {
    return calibration.batches().size() >= SETS_TO_MEASURE_TAILS;
  }

  /**
   * Whether channel {@code c}'s mean shift is beyond {@code meanLimit} or its variance ratio beyond
   * {@code ratioLimit} (the variance test widened by {@code inflation}), by more than chance explains.
   */
  public boolean channelBeyond(dev.bncheck.engine.DivergenceMetrics m, int c, double meanLimit, double ratioLimit,
      double inflation) {
    return meanShiftBeyond(shiftInWiderSpread(m.standardizedMeanShift()[c], m.varianceRatio()[c]), meanLimit)
        || varianceRatioBeyond(m.varianceRatio()[c], ratioLimit, inflation);
  }

  /**
   * A mean shift in units of the wider of the two spreads, the moving variance's or the data's. The
   * shift's standard error is the population's deviation over the square root of the samples, and
   * both variances estimate the population's; a sample of heavy-tailed data that missed the rare
   * extreme rows has a spread several times smaller than the population's, and in its units the
   * moving mean of a healthy model looked shifted by more than one deviation.
   */
  static double shiftInWiderSpread(double shift, double varianceRatio) {
    return varianceRatio > 1 ? shift / Math.sqrt(varianceRatio) : shift;
  }

  /**
   * How much unmeasured tails widen the variance test. The standard error of a log variance is
   * about sqrt((kurtosis - 1) / n): normal data (kurtosis 3) gives sqrt(2 / n), and this factor
   * allows for kurtosis up to 9, as heavy as a Student t with five degrees of freedom. Data in
   * fewer than four batches cannot show its tails well, and a healthy model whose training data
   * had rare large values got confident BN003 errors from 16 to 64 such samples.
   */
  static final double UNMEASURED_TAILS = 2.0;

  /** Fewer batches, or groups of samples, than this cannot show how the variance varies. */
  static final int SETS_TO_MEASURE_TAILS = 4;

  /**
   * Per channel, how much more the logarithm of a variance varies than it would for normal data
   * (at least 1): heavy tails (log-normal inputs, a ReLU's mass at 0, rare outliers) make a
   * variance estimate far less certain than its sample count says. From four batches on, the
   * spread of the batches' variances measures it; with fewer, the spread of groups of samples cut
   * from the batches, but never less than {@link #UNMEASURED_TAILS}: a few groups rarely hold the
   * rare values that make tails heavy.
   */
  public static double[] varianceInflation(dev.bncheck.engine.LayerCalibration calibration) {
    return allowingUnmeasuredTails(measuredVarianceInflation(calibration), tailsMeasured(calibration));
  }

  /**
   * The measured inflation raised to {@link #UNMEASURED_TAILS} where fewer than four batches could
   * not measure the tails ({@link #varianceInflation}, for a caller that has the measured one).
   */
  public static double[] allowingUnmeasuredTails(double[] measured, boolean tailsMeasured) {
    double[] out = measured.clone();
    if (!tailsMeasured) {
      for (int c = 0; c < out.length; c++) {
        out[c] = Math.max(UNMEASURED_TAILS, out[c]);
      }
    }
    return out;
  }

  /**
   * The inflation the data itself shows, without the allowance for tails it may hide: from the
   * batches when there are four, else from groups of samples, else 1. BN004 takes this one: its
   * batches' own variation is measured directly, and the allowance would hide a model whose
   * statistics were never updated on 32 samples.
   */
  public static double[] measuredVarianceInflation(dev.bncheck.engine.LayerCalibration calibration) {
    TailSets tails = TailSets.of(calibration);
    if (tails.sets().isEmpty()) {
      double[] none = new double[calibration.population().channels()];
      java.util.Arrays.fill(none, 1.0);
      return none;
    }
    return atLeastTheLayersMedian(logVarianceSpread(tails.sets(), tails.samplesPerSet()));
  }

  /**
   * The sets whose spread measures the data's tails: the batches from four on, else the groups of
   * samples cut from the first batches when there are four of them, else none.
   */
  private record TailSets(java.util.List<dev.bncheck.engine.ChannelMoments> sets, long samplesPerSet) {

    static TailSets of(dev.bncheck.engine.LayerCalibration calibration) {
      if (tailsMeasured(calibration)) {
        return new TailSets(calibration.batches(), calibration.largestBatchSamples());
      }
      var groups = calibration.sampleGroups();
      return groups.groups().size() >= SETS_TO_MEASURE_TAILS
          ? new TailSets(groups.groups(), groups.samplesPerGroup())
          : new TailSets(java.util.List.of(), 0);
    }
  }

  /**
   * Each channel's inflation raised to the layer's median. A layer's channels see the same samples,
   * and a sample with extreme values (a rare outlier row) reaches most of them at once; one channel's
   * spread over a handful of sets is itself uncertain, and a channel whose sets by chance held no
   * extreme value looks light-tailed while the moving variance, an average over training batches
   * that did hold some, does not. On a healthy model fed Student-t data with rare outliers, such a
   * channel (inflation 1.6 in a layer of median 3.5) was a BN003 error at a variance ratio of 4.8.
   */
  static double[] atLeastTheLayersMedian(double[] inflation) {
    double median = ChannelList.median(inflation);
    int n = inflation.length;
    double[] out = new double[n];
    for (int c = 0; c < n; c++) {
      out[c] = Math.max(inflation[c], median);
    }
    return out;
  }

  /**
   * Per channel, how much more the sets' variances vary than normal data's would for sets of
   * {@code samplesPerSet} samples, at least 1; 1 everywhere with fewer than four sets or samples
   * per set below 2. Two measures, the larger taken: the spread of the log variances against the
   * normal one, and the variances' own coefficient of variation, whose square is (kurtosis - 1) / n
   * for any distribution (2 / (n - 1) for normal data). The log compresses the rare huge variance
   * of a set that holds an outlier: on Student-t data with rare outliers (kurtosis above 100) the
   * log spread gave 3.9 where the kurtosis implies 12.6, and a healthy model got BN004 errors on
   * 1,024 samples.
   */
  static double[] logVarianceSpread(java.util.List<dev.bncheck.engine.ChannelMoments> sets, long samplesPerSet) {
    int channels = sets.get(0).channels();
    double[] out = new double[channels];
    java.util.Arrays.fill(out, 1.0);
    if (sets.size() < SETS_TO_MEASURE_TAILS || samplesPerSet < 2) {
      return out;
    }
    double normal = normalLogVarianceSpread(samplesPerSet);
    for (int c = 0; c < channels; c++) {
      double sum = 0;
      double sumSq = 0;
      double sumV = 0;
      double sumVSq = 0;
      int n = 0;
      for (var set : sets) {
        double v = set.biasedVariance(c);
        if (v > 0 && Double.isFinite(v)) {
          double l = Math.log(v);
          sum += l;
          sumSq += l * l;
          sumV += v;
          sumVSq += v * v;
          n++;
        }
      }
      if (n >= SETS_TO_MEASURE_TAILS) {
        double mean = sum / n;
        double spread = Math.sqrt(Math.max(0, (sumSq - n * mean * mean) / (n - 1)));
        double meanV = sumV / n;
        double cv2 = Math.max(0, (sumVSq - n * meanV * meanV) / (n - 1)) / (meanV * meanV);
        out[c] = Math.max(1.0, Math.max(spread / normal, Math.sqrt(cv2 * (samplesPerSet - 1) / 2)));
      }
    }
    return out;
  }

  /**
   * The standard deviation of the log of a variance estimated from {@code samples} normal values:
   * (samples - 1) s^2 / sigma^2 is chi-squared with k = samples - 1 degrees of freedom, and the log
   * of a chi-squared variable has variance trigamma(k / 2). sqrt(2 / k), its large-sample value,
   * is a third too small at 4 samples.
   */
  static double normalLogVarianceSpread(long samples) {
    return Math.sqrt(trigamma((samples - 1) / 2.0));
  }

  /** The trigamma function for x > 0: the recurrence up to 6, then its asymptotic series. */
  static double trigamma(double x) {
    double sum = 0;
    while (x < 6) {
      sum += 1 / (x * x);
      x += 1;
    }
    double inv = 1 / x;
    double inv2 = inv * inv;
    return sum + inv + inv2 / 2 + inv * inv2 * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (1.0 / 42 - inv2 / 30)));
  }

  /**
   * The samples at which chance alone moves a mean shift by at most {@code threshold}: below
   * them, a difference the size of the threshold cannot be told from noise.
   */
  /**
   * The samples from which a log variance ratio {@code logRatioRoom} beyond a threshold's is beyond
   * chance for data whose log variance varies {@code inflation} times as much as normal data's:
   * the N at which {@code z f sqrt(2 / (N - 1) + 2 / M)} falls below it; never
   * ({@code Long.MAX_VALUE}) where the moving average's own noise alone reaches it.
   */
  public long samplesToJudgeVariance(double logRatioRoom, double inflation) {
    double room = (logRatioRoom / (z * inflation)) * (logRatioRoom / (z * inflation));
    double left = room - 2.0 / averagedSamples;
    return left > 0 ? 1 + (long) Math.ceil(2.0 / left) : Long.MAX_VALUE;
  }

  /**
   * The samples from which a mean shift of {@code threshold} is beyond chance (see
   * {@link #samplesToJudgeVariance} for a variance ratio's).
   */
  public long samplesToJudge(double threshold) {
    double room = (threshold / z) * (threshold / z);
    // where the moving average's own noise leaves little room, at most twice the data it alone would need
    return (long) Math.ceil(1.0 / Math.max(room - 1.0 / averagedSamples, room / 2));
  }

  /**
   * The standard normal quantile for upper-tail probability {@code p}: the x with P(Z > x) = p.
   * Acklam's rational approximation (relative error below 1.2e-9), enough for a critical value.
   */
  static double criticalValue(double p) {
    if (!(p > 0 && p < 1)) {
      throw new IllegalArgumentException("probability must be in (0, 1), got " + p);
    }
    return -lowerQuantile(p);
  }

  private static final double[] A = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  private static final double[] B = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01};
  private static final double[] C = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  private static final double[] D = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
      3.754408661907416e+00};
  private static final double P_LOW = 0.02425;

  /** The x with P(Z < x) = p. */
  private static double lowerQuantile(double p) {
    if (p < P_LOW) {
      double q = Math.sqrt(-2 * Math.log(p));
      return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
          / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
    }
    if (p > 1 - P_LOW) {
      return -lowerQuantile(1 - p);
    }
    double q = p - 0.5;
    double r = q * q;
    return (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
        / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
  }
}
