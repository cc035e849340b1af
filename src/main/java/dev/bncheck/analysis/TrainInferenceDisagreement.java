package dev.bncheck.analysis;

import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.model.Numbers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * BN004: on the calibration data, the layer's output in inference mode (moving statistics) is
 * far from its output in training mode (each batch's own statistics), so the model behaves
 * differently at inference from how it trained.
 */
public final class TrainInferenceDisagreement implements Check {

  @Override
  public String code() {
    return "BN004";
  }

  @Override
  public String title() {
    return "training-mode and inference-mode outputs disagree";
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
    return Set.of("BN007");
  }

  @Override
  public Optional<Finding> check(LayerContext context) {
    DivergenceMetrics m = context.metrics().orElseThrow();
    double limit = context.thresholds().modeRmsError();
    if (!(m.layerModeRelativeRms() > limit)) {
      return Optional.empty();
    }
    double[] perChannel = m.modeRelativeRms();
    int worst = 0;
    for (int c = 1; c < perChannel.length; c++) {
      if (perChannel[c] > perChannel[worst]) {
        worst = c;
      }
    }
    var calibration = context.calibration().orElseThrow();
    int batches = calibration.batches().size();
    int constant = (int) Arrays.stream(perChannel).filter(Double::isInfinite).count();
    // A channel whose input is constant in every batch has no spread for training mode to
    // normalize: it outputs exactly beta there, so any inference-mode difference is infinitely large
    // relative to it. The message names the constant input instead of a percentage of nothing.
    String message;
    if (Double.isInfinite(m.layerModeRelativeRms())) {
      message = String.format(Locale.ROOT, "inference-mode output differs from training-mode output on %d"
          + " calibration batches in %d of %d channels, while training mode outputs exactly beta in every channel:"
          + " the calibration input is constant, so the difference has no spread to be measured against (limit %s%%"
          + " relative RMS)", batches, constant, perChannel.length, Numbers.brief(100 * limit));
    } else {
      String worstChannel = Double.isInfinite(perChannel[worst])
          ? String.format(Locale.ROOT, "worst channel %d, whose calibration input is constant (training mode"
              + " outputs exactly beta there, inference mode does not)", worst)
          : String.format(Locale.ROOT, "worst channel %d at %s%%", worst, Numbers.brief(100 * perChannel[worst]));
      message = String.format(Locale.ROOT,
          "inference-mode output differs from training-mode output by %s%% (relative RMS, limit %s%%) on"
              + " %d calibration batches; %s",
          Numbers.brief(100 * m.layerModeRelativeRms()), Numbers.brief(100 * limit), batches, worstChannel);
    }
    List<Evidence> evidence = new ArrayList<>();
    if (Double.isFinite(m.layerModeRelativeRms())) {
      evidence.add(new Evidence("mode_relative_rms", m.layerModeRelativeRms()));
    }
    evidence.add(new Evidence("worst_channel", worst));
    if (Double.isFinite(perChannel[worst])) {
      evidence.add(new Evidence("worst_channel_mode_relative_rms", perChannel[worst]));
    }
    if (constant > 0) {
      evidence.add(new Evidence("constant_input_channels", constant));
    }
    evidence.add(new Evidence("batches", batches));
    String fix =
        "this is the effect; the cause is usually BN001 or BN003 on the same layer (statistics never"
            + " updated, or stale): fix that and recompute the statistics on training data. If neither"
            + " fires, check that the calibration data is preprocessed like the training data and that its"
            + " batches are large enough for batch statistics to be stable.";
    return Optional.of(new Finding(code(), Severity.ERROR, context.index(), context.layer().name(), message, evidence,
        fix));
  }
}
