package dev.bncheck.analysis;

import dev.bncheck.analysis.CheckDeclaration.DataNeed;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.EmaFit;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.function.IntPredicate;

/**
 * BN003: the moving statistics are far from the statistics of the calibration data, either
 * because the exponential average stopped early (too few updates for its decay) or because the
 * data the model sees differs from what it was trained on.
 */
@Declares(code = "BN003",
    title = "moving statistics stale or diverged from the data",
    data = DataNeed.ESTIMATES,
    supersededBy = {"BN001", "BN007"})
public final class StaleStatistics implements Check {

  static final String FIX_EARLY_STOP_TENSORFLOW =
      "the average received too few updates for its decay: train longer, or lower the decay"
          + " (TF1 tf.layers/slim: decay=0.99, or 0.9 for short runs; Keras: momentum=0.99 or 0.9),"
          + " or recompute the moving statistics on training data.";
  static final String FIX_EARLY_STOP_PYTORCH =
      "the average received too few updates for its momentum: train longer, raise momentum"
          + " (the PyTorch default is 0.1), or recompute the running statistics with"
          + " torch.optim.swa_utils.update_bn on training data.";
  static final String FIX_DATA =
      "the moving statistics do not describe the calibration data: check that the calibration data"
          + " is preprocessed exactly as the training data (scaling, mean subtraction, channel order,"
          + " layout); if the data really changed (transfer learning, new domain), recompute the"
          + " statistics on it.";

  @Override
  public Optional<Finding> check(LayerContext context) {
    Optional<Finding> judged = onTheJudgedView(context);
    if (judged.isPresent() && judged.get().severity() == Severity.ERROR) {
      return judged;
    }
    Optional<Finding> upstream = UpstreamShift.of(context, code());
    return upstream.isPresent() ? upstream : judged;
  }

  private Optional<Finding> onTheJudgedView(LayerContext context) {
    DivergenceMetrics m = context.statisticsMetrics().orElseThrow();
    SamplingError chance = context.statisticsSamplingError().orElseThrow();
    boolean trainingView = context.trainingViewMetrics().isPresent();
    Thresholds t = context.thresholds();
    BnLayer layer = context.layer();
    int channels = layer.channels();
    List<Integer> beyondWarning = ChannelList.where(channels, c -> beyondWarning(m, c, t));
    if (beyondWarning.isEmpty()) {
      return Optional.empty();
    }
    var calibration = context.calibration().orElseThrow();
    // the data's tails as the data judged shows them: on the training view where the layer is judged
    // on it (what reaches a layer at inference can be far heavier- or lighter-tailed)
    var judgedOn = context.statisticsCalibration().orElseThrow();
    double[] measured = SamplingError.measuredVarianceInflation(judgedOn);
    boolean tailsMeasured = SamplingError.tailsMeasured(judgedOn);
    double[] inflation = SamplingError.allowingUnmeasuredTails(measured, tailsMeasured);
    double[] tested = chance.allowingUnseenTails(inflation, m.varianceRatio(), tailsMeasured, t.varianceRatioError());
    Cause cause = Cause.of(layer, m);
    double tails = ChannelList.median(inflation);
    // tails so heavy, measured on 4 batches or more, that a healthy model's moving variance is this
    // far off by chance: data narrower than the statistics may have missed rare rows the training
    // batches held, and one scaling cannot be told from each channel's own factor, so narrower
    // variances make a warning at most (RareRows), tested with the tails' full error; the means and
    // data wider than the statistics (which shows its tails) count as usual; an update count that
    // confirms an early stop settles the variances too. Input scaled by 10 (variance ratio 0.0003 in
    // every channel) had passed as too heavy-tailed to judge, and so had an outside tester's PyTorch
    // MLP whose first layer's running variance was multiplied by 100 (120 to 150 times narrower in
    // every channel, accuracy 0.90 to 0.37).
    boolean tooHeavy = chance.tailsTooHeavyToJudge(tailsMeasured, inflation, t.varianceRatioError())
        && !cause.confirmed();
    // a channel wider than the statistics through one extreme value: its tails are beyond measure
    boolean[] oneValue = SamplingError.widerThroughOneValue(judgedOn, m);
    for (int c = 0; c < channels; c++) {
      if (oneValue[c]) {
        tested[c] = Double.POSITIVE_INFINITY;
      }
    }
    long needed = chance.samplesToJudge(t.meanShiftError());
    // a channel constant in a handful of samples (a ReLU at 0 in all eight) says nothing yet about
    // its variance, and standardizes its mean by epsilon alone
    IntPredicate judged = c -> m.populationVariance()[c] > 0 || chance.samples() >= needed;
    List<Integer> significantWarning = ChannelList.where(channels, c -> (judged.test(c)
        && chance.channelBeyond(m, c, t.meanShiftWarning(), t.varianceRatioWarning(), tested[c]))
        || nonFinite(m, c));
    // a sample narrower than the statistics may have missed rare rows of any weight that the
    // training batches held: below four batches nothing shows the tails (healthy MLPs of log-normal
    // data with 1% of rows 20 times larger got BN003 errors on 64 samples, variance ratios up to 37
    // in 2 batches that held none of them), and from four on the rows may be rarer than the sample
    // can hold (RareRows). Its variances then make a warning, unless the statistics' pattern fits
    // an average from 0/1 stopped early; the means still count.
    List<Integer> narrowerBeyondError = ChannelList.where(channels, c -> judged.test(c) && m.varianceRatio()[c] > 1
        && chance.varianceRatioBeyond(m.varianceRatio()[c], t.varianceRatioError(), tested[c]));
    long missedBy = RareRows.missedBy(context, chance, narrowerBeyondError, inflation);
    boolean rareRowsMayHide = !cause.patternFits() && (!tailsMeasured
        ? RareRows.withinWhatTheyExplain(m, narrowerBeyondError)
        : tooHeavy
            ? RareRows.mayHideInTailsTooHeavy(m, chance, missedBy, narrowerBeyondError)
            : RareRows.mayHide(m, chance, missedBy, narrowerBeyondError, inflation));
    double[] testedForError = tested.clone();
    if (rareRowsMayHide) {
      for (int c = 0; c < channels; c++) {
        if (m.varianceRatio()[c] > 1) {
          testedForError[c] = Double.POSITIVE_INFINITY;
        }
      }
    }
    List<Integer> significantError = ChannelList.where(channels, c -> (judged.test(c)
        && chance.channelBeyond(m, c, t.meanShiftError(), t.varianceRatioError(), testedForError[c]))
        || nonFinite(m, c));
    // channels that count only if the sample showed all of the data's tails, or that the allowance
    // for tails it cannot show left at chance: NHWC images read as NCHW, a variance ratio of 3.3 on
    // 64 samples in 2 batches, passed without a word while 4 batches of 16 caught it
    boolean tailsUndecided = !tailsMeasured && beyondWarning.stream().anyMatch(c -> judged.test(c)
        && m.varianceRatio()[c] > 1 && chance.varianceRatioBeyond(m.varianceRatio()[c], t.varianceRatioWarning(),
        measured[c]));
    List<Integer> extreme = beyondWarning.stream().filter(c -> judged.test(c) && oneValue[c]
        && chance.varianceRatioBeyond(m.varianceRatio()[c], t.varianceRatioWarning(),
        measured[c])).toList();
    OptionalDouble initialWeight = BarelyMovedStatistics.initialWeight(layer);
    boolean counted = initialWeight.isPresent() && initialWeight.getAsDouble() > BarelyMovedStatistics.MAX_INITIAL_WEIGHT;
    // an average from 0/1 that the statistics' pattern fits and the update count confirms: its
    // channels' differences, each within chance, may still add up to the count's prediction
    boolean countConfirmed = counted && cause.confirmed();
    double countScore = countConfirmed
        ? CountedEarlyStop.score(initialWeight.getAsDouble(), layer.epsilon(), m, chance, tested) : 0;
    double countLimit = CountedEarlyStop.criticalValue(context.model().layers().size());
    boolean countShown = countScore > countLimit;
    OptionalLong beyondErrorWithinChance = samplesToTellBeyondError(m, chance, t, judged, tested);
    List<Evidence> evidence = new ArrayList<>();
    evidence.add(new Evidence("view", trainingView ? "training" : "inference"));
    evidence.add(new Evidence("worst_standardized_mean_shift", m.worstMeanShift().value()));
    evidence.add(new Evidence("worst_mean_shift_channel", m.worstMeanShift().channel()));
    evidence.add(new Evidence("worst_variance_ratio", m.worstVarianceRatio().value()));
    evidence.add(new Evidence("worst_variance_ratio_channel", m.worstVarianceRatio().channel()));
    evidence.add(new Evidence("samples", chance.samples()));
    if (missedBy > chance.samples()) {
      // the rows that would explain the narrower channels are missing from the inference view's sample too
      evidence.add(new Evidence("inference_view_samples_as_narrow", missedBy));
    }
    evidence.add(new Evidence("channels_beyond_warning", beyondWarning.size()));
    if (countConfirmed) {
      evidence.add(new Evidence("count_prediction_score", countScore));
      evidence.add(new Evidence("count_prediction_limit", countLimit));
    }
    String worst = String.format(Locale.ROOT,
        "standardized mean shift %s in channel %d, variance ratio %s in channel %d",
        Numbers.brief(m.worstMeanShift().value()), m.worstMeanShift().channel(),
        Numbers.brief(m.worstVarianceRatio().value()), m.worstVarianceRatio().channel());
    if (significantWarning.isEmpty() && !countShown) {
      String message;
      long samplesNeeded = needed;
      if (tooHeavy) {
        evidence.add(new Evidence("variance_inflation", tails));
        evidence.add(new Evidence("moving_average_samples", chance.averagedSamples()));
        message = String.format(Locale.ROOT,
            "too uncertain to judge the moving statistics: %d of %d channels are beyond the warning thresholds (%s),"
                + " but the data's tails are so heavy (its variance estimates vary %s times as much as normal data's)"
                + " that moving statistics averaged over about %s training samples (an assumed batch of %d at this"
                + " momentum) differ this much by chance, and more calibration data cannot decide it",
            beyondWarning.size(), channels, worst, Numbers.brief(tails), Numbers.brief(chance.averagedSamples()),
            MovingAverageNoise.ASSUMED_TRAINING_BATCH);
      } else if (tailsUndecided) {
        samplesNeeded = Math.max(needed, samplesToTellNarrower(judgedOn, chance));
        evidence.add(new Evidence("samples_needed", samplesNeeded));
        message = String.format(Locale.ROOT,
            "too little calibration data to judge the moving statistics: %d of %d channels are beyond the warning"
                + " thresholds (%s), narrower than the statistics describe, but %d batches cannot show the data's tails:"
                + " a sample that misses rare extreme values is this much narrower than the data the moving statistics"
                + " averaged; about %d samples, in %d batches or more, tell",
            beyondWarning.size(), channels, worst, judgedOn.batches().size(), samplesNeeded,
            SamplingError.SETS_TO_MEASURE_TAILS);
      } else if (!extreme.isEmpty()) {
        evidence.add(new Evidence("channels_wider_through_one_value", extreme.size()));
        message = String.format(Locale.ROOT,
            "too little calibration data to judge the moving statistics: %d of %d channels are beyond the warning"
                + " thresholds (%s), and in %d of them (channel %d first) the data is wider than the statistics"
                + " through one extreme value, one %s holding most of its spread: the tails are heavy, and more"
                + " samples are needed to tell how heavy",
            beyondWarning.size(), channels, worst, extreme.size(), extreme.get(0),
            tailsMeasured ? "batch" : "group of samples");
      } else if (chance.samples() < needed) {
        evidence.add(new Evidence("samples_needed", needed));
        message = String.format(Locale.ROOT,
            "too little calibration data to judge the moving statistics: %d of %d channels are beyond the warning"
                + " thresholds (%s), but on %d samples chance alone moves them that far; about %d samples tell a"
                + " mean shift of %s from noise",
            beyondWarning.size(), channels, worst, chance.samples(), needed, Numbers.brief(t.meanShiftError()));
      } else if (countConfirmed) {
        // the count says the average still holds much of its 0/1 and the pattern agrees: the data
        // cannot yet tell it from chance, but silence would pass a model stopped after 10 updates
        message = String.format(Locale.ROOT,
            "moving statistics differ from the calibration data: %s; %d of %d channels are beyond the warning"
                + " thresholds, none by more than chance explains on %d samples, and their differences together"
                + " score %s along the pattern num_batches_tracked predicts (chance stays below %s)%s",
            worst, beyondWarning.size(), channels, chance.samples(), Numbers.brief(countScore),
            Numbers.brief(countLimit), cause.message())
            + (cause.variancesAlone() ? Cause.VARIANCES_ALONE : "");
        // the count itself is added with the share it leaves, as every undecided finding adds it
        cause.evidence().stream().filter(e -> !e.name().equals("num_batches_tracked")).forEach(evidence::add);
      } else if (beyondErrorWithinChance.isPresent()) {
        // beyond the error thresholds as measured, within chance of them: silence here read as a pass
        // where fewer samples had said "too little data" (an outside tester's CNN with every layer
        // stale, a variance ratio of 2.03 on 64 samples)
        samplesNeeded = beyondErrorWithinChance.getAsLong();
        evidence.add(new Evidence("samples_needed", samplesNeeded));
        message = String.format(Locale.ROOT,
            "too little calibration data to judge the moving statistics: %d of %d channels are beyond the warning"
                + " thresholds (%s), some beyond the error thresholds as measured, but none by more than chance"
                + " explains on %d samples; about %d samples tell",
            beyondWarning.size(), channels, worst, chance.samples(), samplesNeeded);
      } else {
        return Optional.empty();
      }
      String fix;
      if (tooHeavy) {
        fix = TrainInferenceDisagreement.FIX_HEAVY_TAILS;
      } else if (trainingView && calibration.samples() > chance.samples()) {
        fix = "the training view ran on the first " + chance.samples() + " of the " + calibration.samples()
            + " samples: run check again with --training-view-samples "
            + Math.min(calibration.samples(), samplesNeeded) + ".";
      } else {
        fix = SamplingError.FIX_MORE_DATA;
      }
      return Optional.of(undecided(context, message, evidence, fix));
    }
    boolean beyondError = !significantError.isEmpty();
    // an average from 0/1 that the statistics' pattern fits and the update count confirms, still
    // holding a share of its start: wrong by construction, whatever the size of the difference (an
    // outside tester's MLP stopped after 10 updates, accuracy 0.996 -> 0.669, had a warning at 64
    // samples, its shifts under the error thresholds). A count alone stays a warning: fine-tuning
    // from converged statistics with the count restarted looks the same to it.
    boolean confirmedEarlyStop = countConfirmed && !cause.variancesAlone();
    Severity severity = beyondError || confirmedEarlyStop ? Severity.ERROR : Severity.WARNING;
    List<Integer> flagged = beyondError ? significantError : significantWarning;
    String thresholds = beyondError ? "error" : "warning";
    evidence.add(new Evidence("channels_significantly_beyond_" + thresholds, flagged.size()));
    String message = String.format(Locale.ROOT,
        "moving statistics differ from the calibration data" + (trainingView ? " (training view)" : "")
            + ": %s; %d of %d channels beyond the %s thresholds by more than chance explains on %d samples",
        worst, flagged.size(), channels, thresholds, chance.samples());
    if (!beyondError && rareRowsMayHide && !narrowerBeyondError.isEmpty()) {
      evidence.add(new Evidence(RareRows.NARROWER_UNJUDGED, narrowerBeyondError.size()));
      if (tailsMeasured) {
        long samplesToTell = RareRows.samplesToSeeThem(chance);
        evidence.add(new Evidence("samples_needed", samplesToTell));
        if (tooHeavy) {
          evidence.add(new Evidence("variance_inflation", tails));
        }
        String howNarrower = tooHeavy
            ? String.format(Locale.ROOT, ", the data's tails too heavy (its variance estimates vary %s times as much as"
                + " normal data's) to tell one scaling from each channel's own factor", Numbers.brief(tails))
            : ", each by its own factor (not one scaling)";
        message += String.format(Locale.ROOT, "; %d of them beyond the error thresholds, narrower than the statistics"
            + " describe%s, but moving statistics averaged over about %s training samples hold rows too rare for %d"
            + " samples to show%s, and a sample that missed them is this much narrower: no error below about %d samples"
            + " unless more than %s times narrower at the median", narrowerBeyondError.size(), howNarrower,
            Numbers.brief(chance.averagedSamples()), missedBy, missedBy > chance.samples()
                ? " (the inference view's, as narrow there)" : "", samplesToTell,
            Numbers.brief(RareRows.MOST_THEY_EXPLAIN));
      } else {
        long samplesToTell = samplesToTellNarrower(judgedOn, chance);
        evidence.add(new Evidence("samples_needed", samplesToTell));
        message += String.format(Locale.ROOT, "; %d of them beyond the error thresholds, narrower than the statistics"
            + " describe, but %d batches cannot show the data's tails: a sample that misses rare extreme values is"
            + " this much narrower than the data the moving statistics averaged, so this is no error below about %d"
            + " samples, in %d batches or more", narrowerBeyondError.size(), judgedOn.batches().size(),
            samplesToTell, SamplingError.SETS_TO_MEASURE_TAILS);
      }
    }
    if (flagged.isEmpty()) {
      message += String.format(Locale.ROOT, ", but together the %d channels' differences follow the pattern"
          + " num_batches_tracked predicts (score %s, chance stays below %s)", channels, Numbers.brief(countScore),
          Numbers.brief(countLimit));
    }
    boolean earlyStop = cause.earlyStop();
    if (!earlyStop && counted) {
      // the fit of the statistics' pattern is blurred by heavy tails or few samples, the count is not
      evidence.add(new Evidence("num_batches_tracked", layer.numBatchesTracked().getAsLong()));
      evidence.add(new Evidence("initial_weight", initialWeight.getAsDouble()));
      evidence.add(new Evidence("likely_cause", "too_few_updates"));
      evidence.add(new Evidence("cause_confidence", "medium"));
      message += String.format(Locale.ROOT, "; num_batches_tracked records only %d updates, after which an average"
          + " that started at 0/1 still holds %s%% of its initial values: the average stopped early, unless training"
          + " resumed from converged statistics (fine-tuning from weights saved without the count restarts it)",
          layer.numBatchesTracked().getAsLong(), Numbers.format(100 * initialWeight.getAsDouble(), 2));
      earlyStop = true;
    } else if (!earlyStop && cumulative(layer)) {
      // the average weighs the first steps, taken with weights that changed since, as much as the
      // last: an outside tester's healthy CNN trained with momentum=None was told its data differed
      evidence.add(new Evidence("num_batches_tracked", layer.numBatchesTracked().getAsLong()));
      evidence.add(new Evidence("likely_cause", "cumulative_average_lags_weights"));
      evidence.add(new Evidence("cause_confidence", "medium"));
      message += String.format(Locale.ROOT, "; the layer averages cumulatively (momentum=None) over all %d training"
          + " batches, so the statistics of early batches, taken with weights that changed since, weigh as much as"
          + " the last: they lag the final weights, unless the data differs from training's",
          layer.numBatchesTracked().getAsLong());
      return Optional.of(new Finding(code(), severity, context.index(), layer.name(), message, evidence,
          FIX_CUMULATIVE));
    } else {
      evidence.addAll(cause.evidence());
      message += cause.message();
      if (countConfirmed && cause.variancesAlone()) {
        message += Cause.VARIANCES_ALONE;
      }
      if (confirmedEarlyStop) {
        evidence.add(new Evidence("initial_weight", initialWeight.getAsDouble()));
      }
    }
    if (confirmedEarlyStop && !beyondError) {
      message += String.format(Locale.ROOT, "; after %d updates the average still holds %s%% of its initial 0/1,"
          + " which makes this an error although no channel is significantly beyond the error thresholds",
          layer.numBatchesTracked().getAsLong(), Numbers.format(100 * initialWeight.getAsDouble(), 2));
    }
    String fix = earlyStop ? context.framework().pick(FIX_EARLY_STOP_TENSORFLOW, FIX_EARLY_STOP_PYTORCH) : FIX_DATA;
    return Optional.of(new Finding(code(), severity, context.index(), layer.name(), message, evidence, fix));
  }

  /**
   * The finding when the data cannot decide (too little of it, or tails too heavy for the moving
   * statistics to be judged): information, unless the framework's update count (PyTorch's
   * {@code num_batches_tracked}) says the average still holds more than
   * {@link BarelyMovedStatistics#MAX_INITIAL_WEIGHT} of its initial 0/1, a warning then. Without data
   * the count alone is information (BN012: fine-tuning restarts it); with data that cannot contradict
   * it, it is the evidence there is.
   */
  private Finding undecided(LayerContext context, String message, List<Evidence> evidence, String fix) {
    BnLayer layer = context.layer();
    OptionalDouble initialWeight = BarelyMovedStatistics.initialWeight(layer);
    if (initialWeight.isEmpty() || initialWeight.getAsDouble() <= BarelyMovedStatistics.MAX_INITIAL_WEIGHT) {
      return new Finding(code(), Severity.INFO, context.index(), layer.name(), message, evidence, fix);
    }
    evidence.add(new Evidence("num_batches_tracked", layer.numBatchesTracked().getAsLong()));
    evidence.add(new Evidence("initial_weight", initialWeight.getAsDouble()));
    String counted = String.format(Locale.ROOT, "; num_batches_tracked records only %d updates, after which an average"
        + " that started at 0/1 still holds %s%% of its initial values", layer.numBatchesTracked().getAsLong(),
        Numbers.format(100 * initialWeight.getAsDouble(), 2));
    return new Finding(code(), Severity.WARNING, context.index(), layer.name(), message + counted, evidence,
        context.framework().pick(FIX_EARLY_STOP_TENSORFLOW, FIX_EARLY_STOP_PYTORCH));
  }

  static final String FIX_CUMULATIVE =
      "recompute the running statistics with the final weights (torch.optim.swa_utils.update_bn on training data,"
          + " or bncheck recalibrate), or train with a momentum (the default 0.1) so that they follow the weights;"
          + " if the calibration data is prepared differently from the training data, fix that first.";

  /** PyTorch's cumulative average ({@code momentum=None}): no momentum, and a count of the batches it averaged. */
  private static boolean cumulative(BnLayer layer) {
    return layer.momentum().isEmpty() && layer.numBatchesTracked().isPresent()
        && layer.numBatchesTracked().getAsLong() > 0;
  }

  /** A statistic that is not a number is beyond any threshold, whatever the sample. */
  private static boolean nonFinite(DivergenceMetrics m, int c) {
    return !Double.isFinite(m.standardizedMeanShift()[c]) || !Double.isFinite(m.varianceRatio()[c]);
  }

  /**
   * The samples that tell whether data narrower than the statistics is real: 4 batches measure its
   * tails, and below {@link RareRows#samplesToSeeThem} a sample may still have missed rare rows
   * unless its channels are narrower by one factor alike. Promising the first alone had a user
   * told "about 128 samples in 4 batches" and then, on 256, "about 1400".
   */
  private static long samplesToTellNarrower(LayerCalibration judgedOn, SamplingError chance) {
    return Math.max(SamplingError.SETS_TO_MEASURE_TAILS * judgedOn.largestBatchSamples(),
        RareRows.samplesToSeeThem(chance));
  }

  /**
   * Which cause the layer's own evidence points to: an exponential average stopped early, or data
   * unlike what the statistics were computed on. The early stop is named only when its fit is
   * plausible: at least one update's worth of movement, and a number of updates that agrees with
   * {@code num_batches_tracked} where the framework recorded it. {@code patternFits} says whether the
   * statistics fit an average from 0/1 at all, even where the update count contradicts it: rare rows
   * a sample missed do not make that pattern.
   */
  private record Cause(boolean earlyStop, boolean confirmed, boolean variancesAlone, boolean patternFits,
      String message, List<Evidence> evidence) {

    /**
     * Why a count that confirms a fit on the variances alone does not make an error: dropout before
     * a layer widens its inputs in training only, and a moving variance above data narrower than 1
     * then looks like an average still pulled toward its initial 1 (an outside tester's healthy MLP
     * with dropout, its count restarted at 20, was an error).
     */
    static final String VARIANCES_ALONE = "; the means, near 0, cannot confirm it: the variances alone also differ"
        + " this way where dropout precedes the layer (its inputs wider in training than at inference), so the count"
        + " does not make this an error";

    /** The slowest average in common use (TF1's decay 0.999); one update moves it 0.1% of the way. */
    static final double SLOWEST_COMMON_DECAY = 0.999;

    /** Fitted and recorded update counts agree within this factor. */
    static final double UPDATES_AGREEMENT = 3.0;

    static Cause of(BnLayer layer, DivergenceMetrics m) {
      if (cumulative(layer)) {
        // a cumulative average weighs its first batch fully and keeps nothing of 0/1 after it: no
        // early stop fits it (an outside tester's healthy momentum=None ResNet was told "about 143
        // updates at decay 0.99" and "nothing records its update count" beside num_batches_tracked 282)
        return new Cause(false, false, false, false, "", List.of());
      }
      EmaFit fit = EmaFit.fit(layer.movingMean(), layer.movingVariance(), m.populationMean(), m.populationVariance());
      List<Evidence> evidence = new ArrayList<>();
      if (!fit.statisticsMovedAlike()) {
        evidence.add(new Evidence("ema_fraction_of_population_means", fit.meanWeight()));
        evidence.add(new Evidence("ema_fraction_of_population_variances", fit.varianceWeight()));
        evidence.add(new Evidence("likely_cause", "data_differs"));
        evidence.add(new Evidence("cause_confidence", "medium"));
        return new Cause(false, false, false, false, String.format(Locale.ROOT,
            "; the means %s, the variances %s, but one average moves both alike: this is no early stop, the data"
            + " likely differs from what the statistics were computed on%s", movedShare(fit.meanWeight()),
            movedShare(fit.varianceWeight()), whichMoved(fit)), evidence);
      }
      if (!fit.fitsEarlyStop()) {
        evidence.add(new Evidence("likely_cause", "data_differs"));
        evidence.add(new Evidence("cause_confidence", "low"));
        return new Cause(false, false, false, false, "; the statistics do not look like an average stopped early,"
            + " so the data likely differs from what they were computed on", evidence);
      }
      OptionalDouble decay = layer.momentum().isPresent()
          ? OptionalDouble.of(layer.momentumConvention().decay(layer.momentum().getAsDouble()))
          : OptionalDouble.empty();
      OptionalDouble updates = decay.isPresent() ? fit.updates(decay.getAsDouble()) : OptionalDouble.empty();
      evidence.add(new Evidence("ema_fraction_of_population", fit.weight()));
      evidence.add(new Evidence("ema_fit_relative_residual", fit.relativeResidual()));
      String fitted = String.format(Locale.ROOT, "an exponential average that started at 0/1 and moved %s%% of the"
          + " way to the data", Numbers.format(100 * fit.weight(), 2));
      String rejected = rejection(layer, fit, decay, updates);
      if (!rejected.isEmpty()) {
        evidence.add(new Evidence("likely_cause", "data_differs"));
        evidence.add(new Evidence("cause_confidence", "medium"));
        return new Cause(false, false, false, true, "; the pattern resembles " + fitted + ", but " + rejected
            + ": the data likely differs from what the statistics were computed on", evidence);
      }
      String message = "; the pattern fits " + fitted;
      if (updates.isPresent()) {
        long estimate = Math.round(updates.getAsDouble());
        evidence.add(new Evidence("estimated_updates", estimate));
        message += String.format(Locale.ROOT, ", about %d updates at momentum %s (%s convention)",
            estimate, Numbers.brief(layer.momentum().getAsDouble()), layer.momentumConvention().jsonName());
      } else if (decay.isEmpty()) {
        // Keras 3 model.export and frozen graphs keep no momentum: give the counts at the common ones
        message += String.format(Locale.ROOT, "; the model does not record its momentum: that is about %d updates"
            + " at decay 0.99, or %d at 0.999", Math.round(fit.updates(0.99).orElse(0)),
            Math.round(fit.updates(SLOWEST_COMMON_DECAY).orElse(0)));
        evidence.add(new Evidence("momentum", "unknown"));
      }
      evidence.add(new Evidence("likely_cause", "too_few_updates"));
      boolean confirmed = layer.numBatchesTracked().isPresent() && updates.isPresent();
      // with every variance near its initial 1 the means alone carry the fit, and data shifted by a
      // constant moves each channel's mean in proportion to it, as an early stop does
      boolean meansAlone = Double.isNaN(fit.varianceWeight());
      evidence.add(new Evidence("cause_confidence", confirmed ? "high" : meansAlone ? "low" : "medium"));
      if (layer.numBatchesTracked().isPresent()) {
        evidence.add(new Evidence("num_batches_tracked", layer.numBatchesTracked().getAsLong()));
      }
      if (confirmed) {
        message += ", which num_batches_tracked (" + layer.numBatchesTracked().getAsLong() + ") confirms";
      } else {
        // no count confirms the fit: data shifted and scaled alike in every channel (an input offset
        // through a padded convolution) fits an early stop as well, and the user knows the step count
        evidence.add(new Evidence("alternative_cause", "preprocessing_offset"));
        message += meansAlone
            ? "; the variances, near their initial 1, cannot tell this from data shifted by a constant (a mean"
                + " subtraction that differs from training's), which moves the means alike"
            : "; nothing in the model records its update count: if training ran far longer than this, the data"
                + " differs from training's instead (an offset or a mean subtraction that differs)";
      }
      return new Cause(true, confirmed, Double.isNaN(fit.meanWeight()), true, message, evidence);
    }

    /**
     * What differs when one kind of statistic matches the data and the other does not. A variance
     * break with the means right had been told "a mean subtraction that differs shifts the means
     * alone", the opposite of what it showed.
     */
    private static String whichMoved(EmaFit fit) {
      boolean meansMatch = Math.abs(fit.meanWeight() - 1) < MATCHES_THE_DATA;
      boolean variancesMatch = Math.abs(fit.varianceWeight() - 1) < MATCHES_THE_DATA;
      if (meansMatch && !variancesMatch) {
        return " in its spread alone (a scaling that differs), or the moving variances themselves were changed since"
            + " (another checkpoint's, or a conversion)";
      }
      if (variancesMatch && !meansMatch) {
        return " in its means alone (a mean subtraction that differs), or the moving means themselves were changed"
            + " since (another checkpoint's, or a conversion)";
      }
      return ", or the statistics themselves were changed since (another checkpoint's, or a conversion)";
    }

    /** A fitted weight within this of 1: the statistics match the data, as an average that moved all the way. */
    static final double MATCHES_THE_DATA = 0.1;

    /**
     * How far a statistic's own fit moved: a share of the way from the initial value to the
     * data, or, beyond the data or behind the start, that no such average fits it.
     */
    private static String movedShare(double w) {
      return w >= 0 && w <= 1.25
          ? "fit an average that moved " + Numbers.format(100 * w, 2) + "% of the way to the data"
          : "fit no average between the initial value and the data (w = " + Numbers.brief(w) + ")";
    }

    /** Why an early stop cannot be the cause, or empty when nothing contradicts it. */
    private static String rejection(BnLayer layer, EmaFit fit, OptionalDouble decay, OptionalDouble updates) {
      if (decay.isPresent() && fit.weight() < 1 - decay.getAsDouble()) {
        return String.format(Locale.ROOT, "that is less than a single update moves at momentum %s",
            Numbers.brief(layer.momentum().getAsDouble()));
      }
      if (decay.isEmpty() && fit.weight() < 1 - SLOWEST_COMMON_DECAY) {
        return "that is less than a single update moves at any common momentum (decay 0.999 or lower)";
      }
      if (layer.numBatchesTracked().isPresent() && updates.isPresent()) {
        long tracked = layer.numBatchesTracked().getAsLong();
        double estimate = Math.max(updates.getAsDouble(), 1e-9);
        if (tracked > 0 && Math.abs(Math.log(estimate / tracked)) > Math.log(UPDATES_AGREEMENT)) {
          return String.format(Locale.ROOT, "that takes about %d updates while num_batches_tracked records %d",
              Math.round(updates.getAsDouble()), tracked);
        }
      }
      return "";
    }
  }

  /** Whether any channel's moving statistics are beyond the warning thresholds. */
  static boolean anyBeyondWarning(DivergenceMetrics m, Thresholds t) {
    for (int c = 0; c < m.varianceRatio().length; c++) {
      if (beyondWarning(m, c, t)) {
        return true;
      }
    }
    return false;
  }

  private static boolean beyondWarning(DivergenceMetrics m, int c, Thresholds t) {
    return Math.abs(m.standardizedMeanShift()[c]) >= t.meanShiftWarning()
        || farFromOne(m.varianceRatio()[c], t.varianceRatioWarning());
  }

  /** Whether a ratio is beyond {@code limit} or below {@code 1 / limit}. */
  static boolean farFromOne(double ratio, double limit) {
    return ratio >= limit || ratio <= 1.0 / limit;
  }

  /**
   * The fewest samples that would tell whether a channel beyond the error thresholds as measured
   * (its mean shift in the wider spread, or its variance ratio with the allowance for its tails) is
   * beyond them by more than chance; empty when no judged channel is, or when no amount of data
   * would tell (the moving average's own noise alone reaches its difference).
   */
  private static OptionalLong samplesToTellBeyondError(DivergenceMetrics m, SamplingError chance, Thresholds t,
      IntPredicate judged, double[] tested) {
    long fewest = Long.MAX_VALUE;
    for (int c = 0; c < m.varianceRatio().length; c++) {
      if (!judged.test(c)) {
        continue;
      }
      double shift = Math.abs(SamplingError.shiftInWiderSpread(m.standardizedMeanShift()[c], m.varianceRatio()[c]));
      if (shift > t.meanShiftError()) {
        fewest = Math.min(fewest, chance.samplesToJudge(shift - t.meanShiftError()));
      }
      double logRoom = Math.abs(Math.log(m.varianceRatio()[c])) - Math.log(t.varianceRatioError());
      if (logRoom > 0 && Double.isFinite(tested[c])) {
        fewest = Math.min(fewest, chance.samplesToJudgeVariance(logRoom, tested[c]));
      }
    }
    return fewest > chance.samples() && fewest < Long.MAX_VALUE ? OptionalLong.of(fewest) : OptionalLong.empty();
  }
}
