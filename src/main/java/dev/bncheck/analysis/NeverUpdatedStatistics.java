package dev.bncheck.analysis;

import dev.bncheck.analysis.CheckDeclaration.DataNeed;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** BN001: the moving statistics still hold the values every framework initializes them to. */
@Declares(code = "BN001", title = "statistics never updated", data = DataNeed.NONE)
public final class NeverUpdatedStatistics implements Check {

  static final String FIX_TENSORFLOW =
      "run the moving-average update ops with every training step (TF1: wrap the train op in"
          + " tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)); Keras: train with"
          + " model.fit or call the layer with training=True inside the training step), then retrain or"
          + " recalibrate the statistics on training data.";
  static final String FIX_PYTORCH =
      "put the model in train() mode while training (running statistics only update then), keep"
          + " track_running_stats=True, and make sure the trained state_dict (with running_mean and"
          + " running_var) is the one exported; or recompute them with torch.optim.swa_utils.update_bn.";

  @Override
  public Optional<Finding> check(LayerContext context) {
    BnLayer layer = context.layer();
    for (int c = 0; c < layer.channels(); c++) {
      if (layer.movingMean()[c] != 0.0 || layer.movingVariance()[c] != 1.0) {
        return Optional.empty();
      }
    }
    List<Evidence> evidence = new ArrayList<>();
    evidence.add(new Evidence("channels", layer.channels()));
    evidence.add(new Evidence("moving_mean", "0 in every channel"));
    evidence.add(new Evidence("moving_variance", "1 in every channel"));
    String message =
        "moving statistics still hold their initial values (moving_mean 0 and moving_variance 1 in all "
            + layer.channels() + " channels)";
    long tracked = layer.numBatchesTracked().orElse(-1);
    if (tracked >= 0) {
      evidence.add(new Evidence("num_batches_tracked", tracked));
    }
    message += tracked > 0
        ? ": num_batches_tracked counts " + tracked + " updates, so they ran without changing the statistics"
            + " (momentum 0) or the statistics were reset after training"
        : ": the update ops never ran" + (tracked == 0 ? ", and num_batches_tracked is 0" : "");
    if (context.metrics().isPresent()) {
      var m = context.metrics().get();
      evidence.add(new Evidence("worst_standardized_mean_shift", m.worstMeanShift().value()));
      evidence.add(new Evidence("worst_variance_ratio", m.worstVarianceRatio().value()));
      message += "; the calibration data's statistics differ (worst variance ratio "
          + Numbers.brief(m.worstVarianceRatio().value()) + " in channel " + m.worstVarianceRatio().channel() + ")";
    }
    return Optional.of(
        new Finding(code(), Severity.ERROR, context.index(), layer.name(), message, evidence,
            context.framework().pick(FIX_TENSORFLOW, FIX_PYTORCH)));
  }
}
