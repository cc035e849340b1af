package dev.bncheck.analysis;

import dev.bncheck.analysis.CheckDeclaration.DataNeed;

import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.Numbers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * BN011: the calibration data does not look like the data the model was trained on. A model-level
 * check on the first BN layer with data: nothing upstream of it normalizes, so when most of its
 * channels are off while its statistics show no sign of an average stopped early, the difference
 * was in the data before the model saw it; the pattern (a scaling, an offset, or neither) points
 * to which preparation differs. Preprocessing (scaling, mean
 * subtraction, channel order) is the usual reason; every later layer then inherits the shift, so
 * their BN003 and BN004 findings are its consequence, not a cause of their own.
 */
@Declares(code = CalibrationDataMismatch.CODE,
    title = "calibration data unlike the training data",
    data = DataNeed.ESTIMATES,
    explains = {"BN003", "BN004"})
public final class CalibrationDataMismatch implements ModelCheck {

  public static final String CODE = "BN011";

  /**
   * The finding on the first layer with data, where its BN003 names the data (not an early stop)
   * as the likely cause, unless that layer normalizes with batch statistics in the serving graph
   * (BN002: it does not use the statistics the data is compared with), has too few samples, or
   * the data is synthetic.
   */
  @Override
  public List<Finding> check(ModelContext context) {
    BnModel model = context.model();
    for (int i = 0; i < model.layers().size(); i++) {
      Optional<LayerCalibration> calibration = context.calibration().layer(i);
      if (calibration.isEmpty()) {
        continue;
      }
      int first = i;
      Optional<Finding> stale = context.layerFindings().stream()
          .filter(f -> f.layerIndex() == first && f.code().equals("BN003") && f.severity() != Severity.INFO
              && f.evidence().contains(new Evidence("likely_cause", "data_differs")))
          .findFirst();
      boolean trainingMode = context.layerFindings().stream()
          .anyMatch(f -> f.layerIndex() == first && f.code().equals("BN002"));
      if (stale.isEmpty() || trainingMode || calibration.get().samples() < SamplingError.MIN_SAMPLES
          || context.data() == Analyzer.DataAvailability.SYNTHETIC) {
        return List.of();
      }
      BnLayer layer = model.layers().get(i);
      DivergenceMetrics metrics = context.metrics().get(i).orElseThrow();
      SamplingError chance = SamplingError.of(calibration.get().samples(),
          Math.max(context.tests(), LayerContext.testsOf(layer))).withMovingAverageOf(layer);
      boolean tailsMeasured = SamplingError.tailsMeasured(calibration.get());
      double[] tails = SamplingError.varianceInflation(calibration.get());
      double[] inflation = chance.allowingUnseenTails(tails, metrics.varianceRatio(), tailsMeasured,
          context.thresholds().varianceRatioError());
      boolean tooHeavy = chance.tailsTooHeavyToJudge(tailsMeasured, tails, context.thresholds().varianceRatioError());
      return finding(context.index(), layer, metrics, chance, inflation,
          SamplingError.measuredVarianceInflation(calibration.get()), tooHeavy, context.thresholds(), stale.get())
          .stream().toList();
    }
    return List.of();
  }

  /**
   * The likely cause when a modest factor fits preprocessing, another domain and statistics that
   * lag alike: on training data it is the lag, which recalibrating fixes.
   */
  public static final String PREPROCESSING_DOMAIN_OR_LAGGING = "preprocessing_domain_or_lagging_statistics";

  /**
   * The likely cause when a modest factor is the same in every channel: a scaling in the
   * preprocessing or another domain (another contrast); lagging statistics lag each channel by its
   * own amount, so they are ruled out.
   */
  public static final String SCALING_PREPROCESSING_OR_DOMAIN = "scaling_preprocessing_or_domain";

  /** Most channels: a shift in a few channels is a feature's drift, not the data's preparation. */
  static final double MOST_CHANNELS = 0.75;

  /** The share of the off channels that must agree in direction, or in a matching spread. */
  static final double SAME_DIRECTION = 0.9;

  /** Spread factors within this of 1 fit lagging statistics as well as preprocessing. */
  static final double MODEST_FACTOR = 3.0;

  /** Standard deviation of ln(variance ratio) across channels below which one factor explains them. */
  static final double ONE_FACTOR_SPREAD = 0.5;

  /**
   * Standard deviation of ln(variance ratio) below which every channel is off by the same factor
   * to within 16%: a scaling of the input does that (a first layer that is linear in its input
   * scales every channel's variance by the factor squared); statistics lagging weights that still
   * changed lag each channel by its own amount. Data scaled by 2 showed 0.03 on 128 samples.
   */
  static final double SAME_FACTOR_SPREAD = 0.15;

  /**
   * The finding, if the first layer with data shows the pattern.
   *
   * @param varianceInflation per channel, how much heavy tails widen the variance test, tails the
   *     data cannot show included (as in BN003)
   * @param measuredInflation per channel, the tails the data shows (without the allowance for those
   *     it cannot), which measure how far chance spreads one factor across channels
   * @param tailsTooHeavy whether those tails are too heavy to judge the moving variances at all
   *     ({@link SamplingError#tailsTooHeavyToJudge}): one factor cannot then be told from rows missed
   *     by chance
   * @param firstLayerStale the BN003 finding on that layer, naming the data (not an early stop) as
   *     its likely cause; the check does not fire without it
   */
  static Optional<Finding> finding(int index, BnLayer layer, DivergenceMetrics m, SamplingError chance,
      double[] varianceInflation, double[] measuredInflation, boolean tailsTooHeavy, Thresholds t,
      Finding firstLayerStale) {
    int channels = layer.channels();
    // the variance test widened for heavy tails as BN003's is: rare outliers in the training
    // data inflate a moving variance without any preprocessing at fault. BN003 has found the layer
    // off; which channels share it is a question of the data, so shifts count in the data's units
    // (BN003's wider spread counted 10 of 16 channels of data from another domain, 5.7 times
    // narrower in every channel, on 25 held-out samples, and recalibrate's guard let it through)
    List<Integer> off = ChannelList.where(channels,
        c -> chance.meanShiftBeyond(m.standardizedMeanShift()[c], t.meanShiftWarning())
            || chance.varianceRatioBeyond(m.varianceRatio()[c], t.varianceRatioWarning(), varianceInflation[c]));
    if (channels < 2 || off.size() < MOST_CHANNELS * channels) {
      return Optional.empty();
    }
    long wider = off.stream().filter(c -> m.varianceRatio()[c] < 1).count();
    long higher = off.stream().filter(c -> m.standardizedMeanShift()[c] < 0).count();
    boolean sameScale = Math.max(wider, off.size() - wider) >= SAME_DIRECTION * off.size();
    boolean sameShift = Math.max(higher, off.size() - higher) >= SAME_DIRECTION * off.size();
    double[] logRatios = off.stream().mapToDouble(c -> Math.log(m.varianceRatio()[c])).filter(Double::isFinite)
        .sorted().toArray();
    if (logRatios.length == 0) {
      return Optional.empty();
    }
    double median = logRatios[logRatios.length / 2];
    // the data's spread relative to the statistics': a factor on the input scales every channel alike
    double factor = Math.exp(-median / 2);
    double spread = standardDeviation(logRatios);
    // means off while the spread matches: an offset (its sign in each channel follows the first
    // layer's weights), which neither a scaling nor lagging statistics (they move the variances
    // too) produce
    long spreadMatches = off.stream().filter(c -> m.varianceRatio()[c] < t.varianceRatioWarning()
        && m.varianceRatio()[c] > 1 / t.varianceRatioWarning()).count();
    boolean offset = spreadMatches >= SAME_DIRECTION * off.size();
    boolean oneFactor = !offset && sameScale && spread < ONE_FACTOR_SPREAD;
    // a modest factor is also what statistics lagging weights that still grew at the end of
    // training look like; a factor such as 255 is not
    boolean modestFactor = modest(factor);
    boolean sameFactor = oneFactor && spread < SAME_FACTOR_SPREAD;
    String confidence = oneFactor && !modestFactor ? "high" : "medium";
    // narrower in every channel off, each by its own factor, the means within chance of where they
    // were: a sample that missed rows rarer than it can hold, which the training batches held, looks
    // the same
    boolean meansOff = off.stream().anyMatch(c -> chance.meanShiftBeyond(
        SamplingError.shiftInWiderSpread(m.standardizedMeanShift()[c], m.varianceRatio()[c]), t.meanShiftWarning()));
    boolean rareRows = wider == 0 && !meansOff && (tailsTooHeavy
        ? RareRows.mayHideInTailsTooHeavy(m, chance, chance.samples(), off)
        : RareRows.mayHide(m, chance, chance.samples(), off, measuredInflation));
    String pattern;
    String causes;
    String likelyCause;
    if (offset) {
      pattern = String.format(Locale.ROOT, "the data's mean is off while its spread matches the statistics' in %d of"
          + " them%s: an offset", spreadMatches, sameShift ? ", " + (higher * 2 > off.size() ? "higher" : "lower")
          + " in " + Math.max(higher, off.size() - higher) : "");
      causes = "A mean subtraction that differs from training's (another mean, or none) is the most likely cause"
          + " (confidence medium), or data from another domain than the statistics";
      likelyCause = "preprocessing_offset";
    } else if (rareRows) {
      // its own factor in each channel, though the spread may be within ONE_FACTOR_SPREAD
      pattern = String.format(Locale.ROOT, "the data's variance is narrower than the statistics describe in all of"
          + " them, %s (%s to %s times)", tailsTooHeavy
              ? "its tails too heavy to tell one factor from each channel's own" : "each channel by its own factor",
          Numbers.brief(Math.exp(logRatios[0])), Numbers.brief(Math.exp(logRatios[logRatios.length - 1])));
      causes = String.format(Locale.ROOT, "Three causes fit that, the means within chance of where the statistics put"
          + " them (confidence low): preprocessing that differs from training's (a scaling per feature, a mean"
          + " subtraction), data from another domain than the statistics, or data that holds rows too rare for %d"
          + " samples to show, which the training batches the statistics averaged (about %s samples) did hold; a"
          + " sample that misses them is this much narrower, so this is a warning below about %d samples",
          chance.samples(), Numbers.brief(chance.averagedSamples()), RareRows.samplesToSeeThem(chance));
      likelyCause = "preprocessing_domain_or_rare_rows";
    } else if (sameScale || sameShift) {
      pattern = oneFactor
          ? String.format(Locale.ROOT, "the data's spread is about %s times what the statistics describe, alike in"
              + " %s (%s)", Numbers.brief(factor), off.size() == channels ? "every channel" : "the channels off",
              commonScale(factor))
          : sameScale
              ? String.format(Locale.ROOT, "the data's spread is %s than the statistics describe in %d of them",
                  wider * 2 > off.size() ? "wider" : "narrower", Math.max(wider, off.size() - wider))
              : String.format(Locale.ROOT, "the data's mean is %s than the statistics' in %d of them",
                  higher * 2 > off.size() ? "higher" : "lower", Math.max(higher, off.size() - higher));
      if (modestFactor && sameFactor) {
        causes = "Two causes fit one factor alike in every channel (confidence medium): preprocessing that scales"
            + " differently from training's, or data from another domain than the statistics (another contrast, a new"
            + " camera, fine-tuning with frozen BN layers); statistics that lag weights still changing when training"
            + " stopped lag each channel by its own amount, not alike";
        likelyCause = SCALING_PREPROCESSING_OR_DOMAIN;
      } else if (modestFactor) {
        causes = "Three causes fit a factor this close to 1 alike (confidence medium): preprocessing that differs from"
            + " training's (scaling, mean subtraction, channel order, layout), data from another domain than the"
            + " statistics (a new camera, fine-tuning with frozen BN layers), or statistics that lag weights still"
            + " changing when training stopped; if this is the training data, it is the lag (recalibrate on it)";
        likelyCause = PREPROCESSING_DOMAIN_OR_LAGGING;
      } else {
        causes = "Preprocessing that differs from training's (scaling, mean subtraction, channel order, layout) is the"
            + " most likely cause (confidence " + confidence + "), or data from another domain than the statistics (a"
            + " new camera, fine-tuning with frozen BN layers)";
        likelyCause = "preprocessing";
      }
    } else {
      // a constant offset through a convolution with zero padding also changes the spread near the
      // borders, channel by channel: it need not look like an offset here (an outside tester's x - 0.5)
      pattern = "in no common direction, not one scaling";
      causes = "Preprocessing that reorders what reaches the model (channel order RGB/BGR, layout NCHW/NHWC, a"
          + " buffer read in another shape), a mean subtraction that differs from training's (through a padded"
          + " convolution an offset changes the spread near the borders too), or data from another domain than the"
          + " statistics are the likely causes (confidence medium)";
      likelyCause = "preprocessing_or_domain";
    }
    String message = String.format(Locale.ROOT,
        "the calibration data does not look like the data the model was trained on: already at the first BN"
            + " layer %s, %d of %d channels are off%s: %s. %s; the findings of later layers follow from it",
        layer.name(), off.size(), channels, sameScale || sameShift ? ", in the same direction" : "", pattern, causes);
    String fix = "prepare the calibration data exactly as the training pipeline does (the same scaling, e.g."
        + " /255, the same mean and standard deviation, RGB or BGR, NHWC or NCHW), then run check again. If"
        + " the serving pipeline prepares data like this calibration data, the deployed model sees the same"
        + " mismatch: fix the serving preprocessing. If the data really changed (a new domain), recompute the"
        + " statistics on it (bncheck recalibrate). If the data is prepared exactly as in training, the first"
        + " layer's own statistics are what differs (another checkpoint's, or changed in a conversion): compare"
        + " them with the trained model's.";
    List<Evidence> evidence = new ArrayList<>(List.of(
        new Evidence("first_layer", layer.name()),
        new Evidence("channels_off", off.size()),
        new Evidence("channels", channels),
        new Evidence("median_variance_ratio", Math.exp(median)),
        new Evidence("spread_factor", factor),
        new Evidence("log_variance_ratio_spread", spread),
        new Evidence("likely_cause", likelyCause),
        new Evidence("cause_confidence", rareRows ? "low" : confidence),
        new Evidence("first_layer_finding", firstLayerStale.code())));
    if (rareRows) {
      evidence.add(new Evidence("samples_needed", RareRows.samplesToSeeThem(chance)));
    }
    return Optional.of(new Finding(CODE, rareRows ? Severity.WARNING : Severity.ERROR, index, "calibration data",
        message, evidence, fix));
  }

  /**
   * Whether a spread factor is within {@link #MODEST_FACTOR} of 1: what a new domain and statistics
   * lagging the weights produce as well as preprocessing.
   */
  static boolean modest(double factor) {
    return factor > 1 / MODEST_FACTOR && factor < MODEST_FACTOR;
  }

  /** The usual culprits for a factor, or a plain statement when none fits. */
  static String commonScale(double factor) {
    if (near(factor, 255)) {
      return "as if pixels in 0..255 reach a model trained on 0..1";
    }
    if (near(factor, 1 / 255.0)) {
      return "as if pixels in 0..1 reach a model trained on 0..255";
    }
    if (near(factor, 127.5) || near(factor, 128)) {
      return "as if pixels in 0..255 reach a model trained on -1..1";
    }
    if (near(factor, 2)) {
      return "as if inputs in -1..1 reach a model trained on 0..1";
    }
    if (near(factor, 0.5)) {
      return "as if inputs in 0..1 reach a model trained on -1..1";
    }
    return "a factor no usual scaling explains, or an offset through a padded convolution";
  }

  private static boolean near(double factor, double target) {
    return Math.abs(Math.log(factor / target)) < 0.1;
  }

  private static double standardDeviation(double[] values) {
    double mean = Arrays.stream(values).average().orElse(0);
    double sum = 0;
    for (double v : values) {
      sum += (v - mean) * (v - mean);
    }
    return Math.sqrt(sum / values.length);
  }
}
