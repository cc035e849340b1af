package dev.bncheck.analysis;

import dev.bncheck.analysis.CheckDeclaration.DataNeed;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.engine.ModeDivergence;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Numbers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * BN004: on the calibration data, the layer's output in inference mode (moving statistics) is
 * far from its output in training mode (each batch's own statistics), so the model behaves
 * differently at inference from how it trained.
 */
@Declares(code = "BN004",
    title = "training-mode and inference-mode outputs disagree",
    data = DataNeed.MODE_COMPARISON,
    supersededBy = {"BN007"})
public final class TrainInferenceDisagreement implements Check {

  /** The fix of a layer whose data is too heavy-tailed for its moving statistics to be judged. */
  static final String FIX_HEAVY_TAILS = "judge this layer by the model's accuracy at inference on held-out data; with"
      + " data this heavy-tailed, statistics recomputed on many samples (`bncheck recalibrate`) are steadier than a"
      + " moving average of a few batches.";

  /**
   * Judged on the view BN003 judges the moving statistics on: on the training view a layer gets
   * the inputs its statistics averaged, while on the inference view every upstream layer's own
   * divergence adds to its inputs' (healthy MLPs on data with rare extreme rows got BN004 errors
   * on their second layer from a first layer judged too uncertain).
   */
  @Override
  public Optional<Finding> check(LayerContext context) {
    DivergenceMetrics m = context.statisticsMetrics().orElseThrow();
    SamplingError chance = context.statisticsSamplingError().orElseThrow();
    double limit = context.thresholds().modeRmsError();
    if (!(m.layerModeRelativeRms() > limit)) {
      return Optional.empty();
    }
    var calibration = context.statisticsCalibration().orElseThrow();
    String view = context.judgedOnTrainingView() ? " (training view)" : "";
    double floor = ModeDivergence.samplingFloor(context.layer(), calibration.batches(), calibration.population()).layer();
    double samplingPerSample = sampling(SamplingError.measuredVarianceInflation(calibration), 1);
    // the moving statistics' own noise (an average of a few training batches) is chance as well
    double movingAverage = samplingPerSample / chance.averagedSamples();
    double sampling = samplingPerSample / chance.samples() + movingAverage;
    double excess = excess(m.layerModeRelativeRms(), floor, sampling);
    if (!(excess > limit)) {
      return Optional.empty();
    }
    // the excess even if the population's estimate is as far off as chance allows (z standard errors)
    double z = chance.z();
    boolean significant = excess(m.layerModeRelativeRms(), floor, z * z * sampling) > limit;
    long needed = Math.max(chance.samples() + 1, samplesToJudge(m.layerModeRelativeRms(),
        Math.sqrt(floor * floor + z * z * movingAverage), z * z * samplingPerSample, limit));
    double[] perChannel = m.modeRelativeRms();
    int worst = 0;
    for (int c = 1; c < perChannel.length; c++) {
      if (perChannel[c] > perChannel[worst]) {
        worst = c;
      }
    }
    int batches = calibration.batches().size();
    String batchWord = batches == 1 ? "batch" : "batches";
    int constant = (int) Arrays.stream(perChannel).filter(Double::isInfinite).count();
    // A channel whose input is constant in every batch has no spread for training mode to
    // normalize: it outputs exactly beta there, so any inference-mode difference is infinitely large
    // relative to it. The message names the constant input instead of a percentage of nothing.
    String message;
    if (Double.isInfinite(m.layerModeRelativeRms())) {
      message = String.format(Locale.ROOT, "inference-mode output differs from training-mode output%s on %d"
          + " calibration %s in %d of %d channels, while training mode outputs exactly beta in every channel:"
          + " the calibration input is constant, so the difference has no spread to be measured against (limit %s%%"
          + " relative RMS)", view, batches, batchWord, constant, perChannel.length, Numbers.brief(100 * limit));
    } else {
      String worstChannel = Double.isInfinite(perChannel[worst])
          ? String.format(Locale.ROOT, "worst channel %d, whose calibration input is constant (training mode"
              + " outputs exactly beta there, inference mode does not)", worst)
          : String.format(Locale.ROOT, "worst channel %d at %s%%", worst, Numbers.brief(100 * perChannel[worst]));
      message = String.format(Locale.ROOT,
          "inference-mode output differs from training-mode output%s by %s%% (relative RMS) on %d calibration %s;"
              + " batch-to-batch variation and sampling explain %s%%, the moving statistics the rest (%s%%, limit"
              + " %s%%); %s",
          view, Numbers.brief(100 * m.layerModeRelativeRms()), batches, batchWord,
          Numbers.brief(100 * Math.sqrt(floor * floor + sampling)), Numbers.brief(100 * excess),
          Numbers.brief(100 * limit), worstChannel);
    }
    List<Evidence> evidence = new ArrayList<>();
    evidence.add(new Evidence("view", context.judgedOnTrainingView() ? "training" : "inference"));
    if (Double.isFinite(m.layerModeRelativeRms())) {
      evidence.add(new Evidence("mode_relative_rms", m.layerModeRelativeRms()));
      evidence.add(new Evidence("batch_variation_relative_rms", floor));
      evidence.add(new Evidence("excess_relative_rms", excess));
    }
    evidence.add(new Evidence("worst_channel", worst));
    if (Double.isFinite(perChannel[worst])) {
      evidence.add(new Evidence("worst_channel_mode_relative_rms", perChannel[worst]));
    }
    if (constant > 0) {
      evidence.add(new Evidence("constant_input_channels", constant));
    }
    evidence.add(new Evidence("batches", batches));
    evidence.add(new Evidence("samples", chance.samples()));
    // tails so heavy that the moving statistics' own noise, at the tests' confidence, alone reaches
    // the limit: a healthy model's layer diverges this much by chance, however much data is given
    boolean tooHeavy = z * Math.sqrt(movingAverage) >= limit;
    if (tooHeavy && !SamplingError.tailsMeasured(calibration)) {
      // measured on groups of a few samples only: 4 batches tell whether more data decides (NHWC
      // images read as NCHW on 64 samples in 2 batches were called beyond any amount of data)
      long fourBatches = SamplingError.SETS_TO_MEASURE_TAILS * calibration.largestBatchSamples();
      evidence.add(new Evidence("samples_needed", fourBatches));
      return Optional.of(new Finding(code(), Severity.INFO, context.index(), context.layer().name(),
          "too little calibration data to judge: " + message + "; the data's tails, measured on " + batches + " "
              + batchWord + " only, are heavy enough for the moving statistics' own noise to explain this; about "
              + fourBatches + " samples in " + SamplingError.SETS_TO_MEASURE_TAILS + " batches measure them",
          evidence, SamplingError.FIX_MORE_DATA));
    }
    if (tooHeavy || (!significant && needed == Long.MAX_VALUE)) {
      // heavy tails: the moving statistics of a healthy model vary this much, whatever the calibration data
      evidence.add(new Evidence("moving_average_samples", chance.averagedSamples()));
      return Optional.of(new Finding(code(), Severity.INFO, context.index(), context.layer().name(),
          "too uncertain to judge: " + message + "; the data's tails are so heavy that moving statistics averaged"
              + " over about " + Numbers.brief(chance.averagedSamples()) + " training samples (an assumed batch"
              + " of " + MovingAverageNoise.ASSUMED_TRAINING_BATCH + " at this momentum) differ this much by"
              + " chance, and more calibration data cannot decide it",
          evidence, FIX_HEAVY_TAILS));
    }
    if (!significant) {
      return Optional.of(new Finding(code(), Severity.INFO, context.index(), context.layer().name(),
          "too little calibration data to judge: " + message + "; about " + needed + " samples are needed",
          evidence, SamplingError.FIX_MORE_DATA));
    }
    Optional<Finding> oneValue = restsOnOneValue(context, m, calibration, z * z * sampling, limit, message, evidence);
    if (oneValue.isPresent()) {
      return oneValue;
    }
    String fix =
        "this is the effect; the cause is usually BN001 or BN003 on the same layer (statistics never"
            + " updated, or stale): fix that and recompute the statistics on training data. If neither"
            + " fires, the statistics may lag weights that still changed at the end of training (a high"
            + " final learning rate): recompute them with the final weights (`bncheck recalibrate` on"
            + " training data); otherwise check that the calibration data is preprocessed like the"
            + " training data.";
    return Optional.of(new Finding(code(), Severity.ERROR, context.index(), context.layer().name(), message,
        evidence, fix));
  }

  /**
   * "Too little data" where the divergence is beyond chance only through channels whose data is
   * wider than the statistics through one extreme value, one set holding most of its spread: as in
   * BN003, that shows heavy tails but not how heavy. A healthy Keras MLP of skewed tabular data got
   * BN004 errors on 16 to 64 samples (186% to 396%) from one row 10 times larger, which made one
   * channel's data 114 times wider than its moving variance, in about 1 of 20 draws of 64.
   */
  private Optional<Finding> restsOnOneValue(LayerContext context, DivergenceMetrics m,
      LayerCalibration calibration, double chance, double limit, String message,
      List<Evidence> evidence) {
    boolean[] oneValue = SamplingError.widerThroughOneValue(calibration, m);
    boolean[] counted = new boolean[oneValue.length];
    int extreme = 0;
    int first = -1;
    for (int c = 0; c < oneValue.length; c++) {
      counted[c] = !oneValue[c];
      if (oneValue[c]) {
        extreme++;
        first = first < 0 ? c : first;
      }
    }
    if (extreme == 0) {
      return Optional.empty();
    }
    BnLayer layer = context.layer();
    double without = ModeDivergence.of(layer, calibration.batches(), counted).layer();
    double floor = ModeDivergence.samplingFloor(layer, calibration.batches(), calibration.population(), counted)
        .layer();
    if (extreme == oneValue.length || excess(without, floor, chance) > limit) {
      return Optional.empty();
    }
    List<Evidence> more = new ArrayList<>(evidence);
    more.add(new Evidence("channels_wider_through_one_value", extreme));
    more.add(new Evidence("mode_relative_rms_without_them", without));
    return Optional.of(new Finding(code(), Severity.INFO, context.index(), layer.name(), String.format(Locale.ROOT,
        "too little calibration data to judge: %s; in %d channel%s (channel %d first) the data is wider than the"
            + " statistics through one extreme value, one %s holding most of its spread, and without %s the modes"
            + " differ by %s%%: the tails are heavy, and more samples are needed to tell how heavy", message, extreme,
        extreme == 1 ? "" : "s", first, SamplingError.tailsMeasured(calibration) ? "batch" : "group of samples",
        extreme == 1 ? "it" : "them", Numbers.brief(100 * without)), more, SamplingError.FIX_MORE_DATA));
  }

  /**
   * The part of the measured divergence the moving statistics are responsible for. Squares add:
   * the batches' departures from the population and the moving statistics' departure from it are
   * independent. Besides the batches' own variation ({@code floor}), the population itself is an
   * estimate from N samples: a perfectly calibrated layer is expected to differ from it by 1/N in
   * the squared standardized mean and 1/(2N) in the squared relative scale ({@code sampling} =
   * 1.5/N for normal data, see {@link #sampling}), and by up to z^2 times that when chance is as large
   * as the tests allow.
   */
  static double excess(double measured, double floor, double sampling) {
    if (Double.isInfinite(measured)) {
      return measured;
    }
    double rest = measured * measured - floor * floor - sampling;
    return rest > 0 ? Math.sqrt(rest) : 0.0;
  }

  /**
   * The samples from which a divergence of {@code measured} is beyond chance: the N at which
   * {@code measured^2 - floor^2 - chancePerSample / N} reaches {@code limit^2}. A divergence over the
   * limit that this data cannot yet tell from chance (a model whose statistics lag its last weight
   * updates showed 49% on 64 samples) is said as too little data with this count, never passed.
   */
  static long samplesToJudge(double measured, double floor, double chancePerSample, double limit) {
    double room = measured * measured - floor * floor - limit * limit;
    return room > 0 ? (long) Math.ceil(chancePerSample / room) : Long.MAX_VALUE;
  }

  /**
   * The squared divergence a perfectly calibrated layer shows by chance from a population
   * estimated on {@code samples} samples: 1/N from the mean, and from the scale 1/(2N) for normal
   * data, widened by the square of the inflation the data shows for heavy tails (the channels'
   * mean, as the layer's divergence is a mean over channels).
   */
  static double sampling(double[] inflation, long samples) {
    double meanSquare = 0;
    for (double f : inflation) {
      meanSquare += f * f / inflation.length;
    }
    return (1 + meanSquare / 2) / samples;
  }
}
