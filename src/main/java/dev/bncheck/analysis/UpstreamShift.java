package dev.bncheck.analysis;

import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.model.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What reaches a layer at inference differs from what reached it in training while the layer's own
 * statistics match its inputs as in training (the training view), and nothing before it explains
 * the difference. The training view keeps a healthy layer from being blamed for what an upstream
 * layer does at inference; but where every upstream layer is within its own thresholds, it had
 * also hidden the model's fault. An outside tester's Keras model of two inputs, trained 4 epochs at
 * momentum 0.99, was 75% accurate as trained and 99.4% with its statistics recomputed (99.7% with
 * those of one layer alone, at most 0.31 deviations off in any channel): the layers after it
 * amplified that to a mean shift of 1.5 deviations in 19 of the last layer's 32 channels at
 * inference, 0.19 in its training view, and the report said "No findings".
 *
 * <p>Two things make such a difference no fault of the statistics, and the rule stands aside for
 * both: an upstream layer whose data is heavy-tailed (its batches' variances vary more than
 * {@link #HEAVY_TAILS} times as much as normal data's), where a batch holding an extreme row is
 * normalized in training far otherwise than by the moving statistics at inference, and no
 * recomputation of them changes that (the heavy-tailed MLPs of docs/findings.md, second layers off
 * by 1.7 deviations at inference on healthy models); and an upstream layer with an error of its own,
 * which is the cause to fix first. It judges the means alone: data narrower at inference than in
 * training is what rare rows make upstream even where a sample shows no heavy tails (they widen the
 * moving variances that normalize the bulk of the rows at inference).
 */
final class UpstreamShift {

  private UpstreamShift() {}

  /**
   * The median variance inflation of an upstream layer's data beyond which inference and training
   * normalize it differently by nature. The heavy-tailed MLPs' first layers measure 3.6 to 8 (the
   * Student-t features with rare rows 3.6 to 4.6, the log-normal ones 8); normal data measures about
   * 1, a ReLU of normal data 1.5, and a convolution's map less (its batches' variances average many
   * positions per sample).
   */
  static final double HEAVY_TAILS = 2;

  /**
   * Whether a layer leaves the layers after it quiet: it has data whose tails its batches measure (4
   * or more) as lighter than {@link #HEAVY_TAILS}, and none of its findings is an error. A layer's
   * upstream is quiet when every layer before it is.
   */
  static boolean leavesQuiet(Optional<LayerCalibration> calibration, List<Finding> layerFindings) {
    return calibration.isPresent() && SamplingError.tailsMeasured(calibration.get())
        && ChannelList.median(SamplingError.measuredVarianceInflation(calibration.get())) <= HEAVY_TAILS
        && layerFindings.stream().noneMatch(f -> f.severity() == Severity.ERROR);
  }

  /**
   * The finding, if a layer judged on its training view has means beyond the error threshold by more
   * than chance explains on the inference view, with nothing upstream to explain them.
   */
  static Optional<Finding> of(LayerContext context, String code) {
    if (!context.judgedOnTrainingView() || !context.upstreamQuiet() || context.metrics().isEmpty()
        || context.samplingError().isEmpty()) {
      return Optional.empty();
    }
    DivergenceMetrics m = context.metrics().get();
    SamplingError chance = context.samplingError().get();
    double limit = context.thresholds().meanShiftError();
    List<Integer> shifted = ChannelList.where(context.layer().channels(), c -> Double.isFinite(
        m.standardizedMeanShift()[c]) && chance.meanShiftBeyond(SamplingError.shiftInWiderSpread(
        m.standardizedMeanShift()[c], m.varianceRatio()[c]), limit));
    if (shifted.isEmpty()) {
      return Optional.empty();
    }
    DivergenceMetrics asInTraining = context.trainingViewMetrics().orElseThrow();
    List<Evidence> evidence = new ArrayList<>();
    evidence.add(new Evidence("view", "inference"));
    evidence.add(new Evidence("worst_standardized_mean_shift", m.worstMeanShift().value()));
    evidence.add(new Evidence("worst_mean_shift_channel", m.worstMeanShift().channel()));
    evidence.add(new Evidence("samples", chance.samples()));
    evidence.add(new Evidence("channels_significantly_beyond_error", shifted.size()));
    evidence.add(new Evidence("training_view_worst_standardized_mean_shift", asInTraining.worstMeanShift().value()));
    evidence.add(new Evidence("likely_cause", "upstream_statistics"));
    evidence.add(new Evidence("cause_confidence", "medium"));
    String message = String.format(Locale.ROOT, "what reaches this layer at inference differs from what reached it in"
        + " training: standardized mean shift %s in channel %d at inference, %d of %d channels beyond the error"
        + " threshold by more than chance explains on %d samples, while its inputs as in training (every BN layer"
        + " normalizing with its batch's statistics) match its statistics (worst mean shift %s): the BN layers before"
        + " it normalize otherwise at inference than in training, each by less than its own thresholds, and the"
        + " layers between amplify it; no upstream layer's data is heavy-tailed, which would explain it",
        Numbers.brief(m.worstMeanShift().value()), m.worstMeanShift().channel(), shifted.size(),
        context.layer().channels(), chance.samples(), Numbers.brief(asInTraining.worstMeanShift().value()));
    return Optional.of(new Finding(code, Severity.ERROR, context.index(), context.layer().name(), message, evidence,
        FIX));
  }

  /**
   * Makes the rule's errors warnings where a finding at warning or above comes before the layer, or
   * BN011 says the calibration data is unlike the training data: the difference may then be that
   * finding's doing. Healthy MLPs of log-normal features whose 256-sample draws missed the rare rows
   * (a BN011 warning) had the difference at their second layer without heavy tails to show for it.
   */
  static void weigh(List<Finding> findings) {
    findings.replaceAll(f -> {
      if (f.severity() != Severity.ERROR || f.evidence().stream().noneMatch(e -> e.name().equals("likely_cause")
          && "upstream_statistics".equals(e.value()))) {
        return f;
      }
      return findings.stream().filter(g -> !g.equals(f) && g.severity().compareTo(Severity.WARNING) >= 0
          && (g.layerIndex() < f.layerIndex() || g.code().equals("BN011"))).findFirst()
          .map(g -> new Finding(f.code(), Severity.WARNING, f.layerIndex(), f.layer(), f.message() + "; "
              + g.code() + " on " + g.layer() + " comes before it and may be why, so this is a warning", f.evidence(),
              f.fix()))
          .orElse(f);
    });
  }

  static final String FIX = "recompute the moving statistics of the BN layers before this one, and of this one, with"
      + " the final weights on training data (bncheck recalibrate; PyTorch: torch.optim.swa_utils.update_bn; Keras or"
      + " TF1: a pass over training data in training mode with the weights frozen); statistics that lag weights still"
      + " changing at the end of training (a high final learning rate, few epochs at momentum 0.99) are the usual"
      + " cause. If the calibration data is prepared unlike the training data, fix that first.";
}
