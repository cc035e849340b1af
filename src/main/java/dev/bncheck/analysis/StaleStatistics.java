package dev.bncheck.analysis;

import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.EmaFit;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * BN003: the moving statistics are far from the statistics of the calibration data, either
 * because the exponential average stopped early (too few updates for its decay) or because the
 * data the model sees differs from what it was trained on.
 */
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
  public String code() {
    return "BN003";
  }

  @Override
  public String title() {
    return "moving statistics stale or diverged from the data";
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public boolean estimatesStatistics() {
    return true;
  }

  @Override
  public Set<String> supersededBy() {
    return Set.of("BN001", "BN007");
  }

  @Override
  public Optional<Finding> check(LayerContext context) {
    DivergenceMetrics m = context.statisticsMetrics().orElseThrow();
    boolean trainingView = context.trainingViewMetrics().isPresent();
    Thresholds t = context.thresholds();
    BnLayer layer = context.layer();
    int channels = layer.channels();
    List<Integer> beyondWarning = ChannelList.where(channels, c -> beyondWarning(m, c, t));
    if (beyondWarning.isEmpty()) {
      return Optional.empty();
    }
    List<Integer> beyondError =
        ChannelList.where(channels, c -> Math.abs(m.standardizedMeanShift()[c]) >= t.meanShiftError()
            || farFromOne(m.varianceRatio()[c], t.varianceRatioError()));
    Severity severity = beyondError.isEmpty() ? Severity.WARNING : Severity.ERROR;

    List<Evidence> evidence = new ArrayList<>();
    evidence.add(new Evidence("view", trainingView ? "training" : "inference"));
    evidence.add(new Evidence("worst_standardized_mean_shift", m.worstMeanShift().value()));
    evidence.add(new Evidence("worst_mean_shift_channel", m.worstMeanShift().channel()));
    evidence.add(new Evidence("worst_variance_ratio", m.worstVarianceRatio().value()));
    evidence.add(new Evidence("worst_variance_ratio_channel", m.worstVarianceRatio().channel()));
    evidence.add(new Evidence("channels_beyond_warning", beyondWarning.size()));
    evidence.add(new Evidence("channels_beyond_error", beyondError.size()));
    String message = String.format(Locale.ROOT,
        "moving statistics differ from the calibration data" + (trainingView ? " (training view)" : "")
            + ": standardized mean shift %s in channel %d,"
            + " variance ratio %s in channel %d; %d of %d channels beyond the %s thresholds",
        Numbers.brief(m.worstMeanShift().value()), m.worstMeanShift().channel(),
        Numbers.brief(m.worstVarianceRatio().value()), m.worstVarianceRatio().channel(),
        severity == Severity.ERROR ? beyondError.size() : beyondWarning.size(), channels,
        severity.label());

    EmaFit fit = EmaFit.fit(layer.movingMean(), layer.movingVariance(), m.populationMean(), m.populationVariance());
    Framework framework = context.framework();
    String fix;
    if (fit.fitsEarlyStop()) {
      evidence.add(new Evidence("ema_fraction_of_population", fit.weight()));
      evidence.add(new Evidence("ema_fit_relative_residual", fit.relativeResidual()));
      message += String.format(Locale.ROOT,
          "; the pattern fits an exponential average that started at 0/1 and moved only %s%% of the way"
              + " to the data", Numbers.format(100 * fit.weight(), 2));
      OptionalDouble updates = layer.momentum().isPresent()
          ? fit.updates(layer.momentumConvention().decay(layer.momentum().getAsDouble()))
          : OptionalDouble.empty();
      if (updates.isPresent()) {
        long estimate = Math.round(updates.getAsDouble());
        evidence.add(new Evidence("estimated_updates", estimate));
        message += String.format(Locale.ROOT, ", about %d updates at momentum %s (%s convention)",
            estimate, Numbers.brief(layer.momentum().getAsDouble()), layer.momentumConvention().jsonName());
      }
      if (layer.numBatchesTracked().isPresent()) {
        evidence.add(new Evidence("num_batches_tracked", layer.numBatchesTracked().getAsLong()));
      }
      fix = framework.pick(FIX_EARLY_STOP_TENSORFLOW, FIX_EARLY_STOP_PYTORCH);
    } else {
      fix = FIX_DATA;
    }
    return Optional.of(new Finding(code(), severity, context.index(), layer.name(), message, evidence, fix));
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
}
