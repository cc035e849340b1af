package dev.bncheck.analysis;

import dev.bncheck.engine.DivergenceMetrics;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Whether data narrower than a layer's moving statistics may be a sample that missed rows rarer
 * than it can hold, which the training batches the statistics averaged did hold: then nothing in
 * the sample shows what it missed, and the narrower variances cannot make an error
 * (docs/findings.md, "Variance made of rare rows").
 *
 * <p>An exponential average at decay d of batches of B rows weighs about B / (1 - d) rows, about
 * half the M samples its noise equals ({@link MovingAverageNoise}). Rows of frequency p at least
 * 2 / M are in that window about once or more, so a healthy model's moving variance holds them;
 * a sample of N rows misses all of them with probability (1 - p)^N, at most exp(-2N / M). Below
 * {@code M ln(1 / alpha) / 2} samples that is more than the family-wise false-alarm rate alpha.
 * Healthy MLPs of log-normal data with 1% of rows 20 times larger got BN011 errors on 256 samples
 * in 2 of 12 runs (none of the rare rows among them, 3 to 27 times narrower), an outside tester's
 * mixed tabular data with 0.2% of rows 30 times larger in 34 of 64 runs.
 *
 * <p>Three patterns are kept as errors: one factor alike in every channel, which a scaling
 * of the input makes through a first layer linear in it (rows missed by chance narrow each channel
 * by its own amount wherever the data's means are not 0); narrower by more than rare rows can
 * explain ({@link #MOST_THEY_EXPLAIN}); and, decided by the callers, an average from 0/1 stopped
 * early, whose pattern the statistics fit.
 */
final class RareRows {

  private RareRows() {}

  /**
   * Standard deviation of ln(variance ratio) across the narrower channels below which they are
   * narrower by one factor (within 16%; {@link CalibrationDataMismatch#SAME_FACTOR_SPREAD}), when
   * chance moves each ratio less than that.
   */
  static final double ONE_FACTOR_SPREAD = CalibrationDataMismatch.SAME_FACTOR_SPREAD;

  /**
   * The median variance ratio of the narrower channels beyond which missed rows cannot be why: the
   * rows the sample missed would carry 99% of the variance the statistics hold. The healthy
   * heavy-tailed MLPs measured for this rule (log-normal, Student-t and mixed columns with rare rows
   * 20 to 30 times larger) were at most 18 times narrower at the median and 52 in one channel; an
   * outside tester's CNN fed pixels divided by 255 once more, 200 to 670 times narrower after a
   * convolution and ReLU whose bias kept the channels from one factor (accuracy 0.997 to 0.257),
   * had passed with a warning.
   */
  static final double MOST_THEY_EXPLAIN = 100;

  /** Whether {@code narrower}'s median variance ratio is within what missed rare rows explain. */
  static boolean withinWhatTheyExplain(DivergenceMetrics m, List<Integer> narrower) {
    return !narrower.isEmpty()
        && ChannelList.median(narrower.stream().mapToDouble(c -> m.varianceRatio()[c]).toArray()) <= MOST_THEY_EXPLAIN;
  }

  /** The samples from which a sample that missed rows the moving statistics hold is rarer than alpha. */
  static long samplesToSeeThem(SamplingError chance) {
    double needed = chance.averagedSamples() * Math.log(1 / SamplingError.FAMILY_WISE_ALPHA) / 2;
    return Double.isFinite(needed) ? (long) Math.ceil(needed) : Long.MAX_VALUE;
  }

  /**
   * Whether the sample may have missed rare rows that make {@code narrower} (channels whose data is
   * narrower than the statistics, their variances beyond a threshold) as narrow as they are: fewer
   * samples than {@link #samplesToSeeThem} missed them ({@code missedBy}, see {@link #missedBy}), and
   * the layer's channels not narrower by one factor alike. The factor is judged over every channel with a variance ratio, not the narrower ones
   * alone: a scaling of the input narrows them all, and 4 channels of 16 narrower by 6 to 15 times,
   * the others within the thresholds, are no scaling. Narrower by more than {@link
   * #MOST_THEY_EXPLAIN} at the median is no missed rows either.
   *
   * @param inflation per channel, how much more the data's log variance varies than normal data's
   */
  static boolean mayHide(DivergenceMetrics m, SamplingError chance, long missedBy, List<Integer> narrower,
      double[] inflation) {
    if (!withinWhatTheyExplain(m, narrower) || missedBy >= samplesToSeeThem(chance)) {
      return false;
    }
    List<Integer> withRatio = ChannelList.where(m.varianceRatio().length,
        c -> m.varianceRatio()[c] > 0 && Double.isFinite(m.varianceRatio()[c]));
    int n = withRatio.size();
    if (n < 2) {
      return true;
    }
    double sum = 0;
    double sumSq = 0;
    double[] tails = new double[n];
    for (int i = 0; i < n; i++) {
      double l = Math.log(m.varianceRatio()[withRatio.get(i)]);
      sum += l;
      sumSq += l * l;
      tails[i] = inflation[withRatio.get(i)];
    }
    double mean = sum / n;
    double spread = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
    // chance spreads the log ratios of one factor by about their own error; the spread measured over
    // n channels is within 2 / sqrt(2 (n - 1)) of it, relatively, at two standard errors
    double noise = ChannelList.median(tails) * chance.logVarianceRatioError() * (1 + 2 / Math.sqrt(2.0 * (n - 1)));
    return spread >= Math.max(ONE_FACTOR_SPREAD, noise);
  }

  /**
   * Whether the sample may have missed rare rows that make {@code narrower} as narrow as they are,
   * in a layer whose tails are too heavy to judge ({@link SamplingError#movingAverageAloneReaches}):
   * chance then spreads one factor across channels as widely as rows missed by chance do, so only
   * the sample size and {@link #MOST_THEY_EXPLAIN} decide.
   */
  static boolean mayHideInTailsTooHeavy(DivergenceMetrics m, SamplingError chance, long missedBy,
      List<Integer> narrower) {
    return withinWhatTheyExplain(m, narrower) && missedBy < samplesToSeeThem(chance);
  }

  /**
   * How many samples missed the rows that would make {@code narrower} as narrow as they are: those
   * the layer is judged on; or, for a layer judged on a training view of fewer samples than the
   * inference view ran on, the inference view's, where its own data is narrower than the statistics
   * beyond the error threshold in those channels too (at the median) and its batches vary no more
   * than {@link #HEAVIER_TAILS} times the judged view's. Both views see the same rows, and a row
   * extreme in one is extreme in the other (what upstream layers do differs between the views by a
   * scale and a shift per channel); a batch holding such a row varies far more than the rest, so the
   * inference view's batches show it. An outside tester's PyTorch CNN with a middle layer's running
   * variance multiplied by 10 (accuracy 0.98 to 0.63) passed with a warning on 4,096 samples: its
   * 256-sample training view was below the 1,400 samples that tell, and the inference view, 41 times
   * narrower, was not asked.
   *
   * @param judgedInflation per channel, the judged view's variance inflation, as the test uses it
   */
  static long missedBy(LayerContext context, SamplingError chance, List<Integer> narrower, double[] judgedInflation) {
    if (!context.judgedOnTrainingView() || narrower.isEmpty() || context.calibration().isEmpty()
        || context.metrics().isEmpty()) {
      return chance.samples();
    }
    var inference = context.calibration().get();
    DivergenceMetrics atInference = context.metrics().get();
    if (inference.samples() <= chance.samples() || !SamplingError.tailsMeasured(inference)) {
      return chance.samples();
    }
    double[] inferenceInflation = SamplingError.measuredVarianceInflation(inference);
    double narrowerThere = ChannelList.median(narrower.stream().mapToDouble(c -> atInference.varianceRatio()[c])
        .toArray());
    double tailsThere = ChannelList.median(narrower.stream().mapToDouble(c -> inferenceInflation[c]).toArray());
    double tailsJudged = ChannelList.median(narrower.stream().mapToDouble(c -> judgedInflation[c]).toArray());
    return narrowerThere > context.thresholds().varianceRatioError() && tailsThere <= HEAVIER_TAILS * tailsJudged
        ? inference.samples() : chance.samples();
  }

  /**
   * How much more the inference view's batches may vary than the judged view's for its sample to
   * count as one without the rows: chance alone moves a spread measured over 8 batches by about a
   * quarter (two standard errors of it), and a batch that held a row carrying most of the variance
   * varies several times as much as the rest.
   */
  static final double HEAVIER_TAILS = 1.5;

  /** The evidence of a BN003 finding whose narrower channels' variances did not count. */
  static final String NARROWER_UNJUDGED = "channels_narrower_beyond_error";

  /**
   * Makes BN004 errors warnings on the layers whose BN003 left narrower variances unjudged. The two
   * modes disagree through the same difference of statistics, on the same view: a sample that
   * missed rare rows makes inference-mode outputs wider than training mode's as much as it makes
   * the data narrower than the statistics (a normal sample 3 to 27 times narrower, 256 samples: BN004
   * at 67% where BN003 was a warning).
   */
  static void weighModeDisagreement(List<Finding> findings) {
    Set<Integer> unjudged = findings.stream()
        .filter(f -> f.code().equals("BN003") && f.severity() != Severity.ERROR
            && f.evidence().stream().anyMatch(e -> e.name().equals(NARROWER_UNJUDGED)))
        .map(Finding::layerIndex).collect(Collectors.toSet());
    findings.replaceAll(f -> f.code().equals("BN004") && f.severity() == Severity.ERROR
        && unjudged.contains(f.layerIndex())
        ? new Finding(f.code(), Severity.WARNING, f.layerIndex(), f.layer(), f.message() + "; BN003 on this layer"
            + " leaves its narrower variances unjudged (the sample may have missed rows rarer than it can hold, which"
            + " the training batches held), and the modes differ through them, so this difference alone is no error",
            f.evidence(), f.fix())
        : f);
  }
}
