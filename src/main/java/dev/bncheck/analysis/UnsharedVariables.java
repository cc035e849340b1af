package dev.bncheck.analysis;

import dev.bncheck.analysis.CheckDeclaration.DataNeed;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.GraphFacts;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * BN008: the training branch and the serving branch of one layer read different sets of BN
 * variables (a {@code tf.cond} whose branches each created their own, the missing-{@code reuse}
 * mistake), so the statistics training updated are not the ones inference uses.
 */
@Declares(code = "BN008", title = "variables not shared between training and inference", data = DataNeed.NONE)
public final class UnsharedVariables implements Check {

  static final String FIX =
      "build the layer's variables once and share them between the branches: TF1: create the BN in"
          + " both branches under the same tf.variable_scope with reuse=True (or tf.AUTO_REUSE), or"
          + " better, call tf.layers.batch_normalization once with training=is_training (a tensor) instead"
          + " of tf.cond around two calls; Keras: create one BatchNormalization layer and call it with"
          + " training=... in both places. Then retrain, or copy the trained statistics into the serving set.";

  @Override
  public Optional<Finding> check(LayerContext context) {
    Optional<GraphFacts.UnsharedTraining> twin = context.layer().graph().flatMap(GraphFacts::unsharedTraining);
    if (twin.isEmpty()) {
      return Optional.empty();
    }
    BnLayer layer = context.layer();
    GraphFacts.UnsharedTraining t = twin.get();
    boolean servingAtInit = allEqual(layer.movingMean(), 0.0) && allEqual(layer.movingVariance(), 1.0);
    boolean trainingTrained = t.trainingMovingMean().length > 0
        && !(allEqual(t.trainingMovingMean(), 0.0) && allEqual(t.trainingMovingVariance(), 1.0));
    String message = "the serving branch reads " + String.join(", ", t.servingVariables()) + " but the training branch ("
        + t.node() + ") reads " + String.join(", ", t.trainingVariables())
        + ": two sets of BN variables for one layer, so inference does not use what training updated";
    if (servingAtInit && trainingTrained) {
      message += "; the serving set still holds its initial values while the training set was updated";
    }
    List<Evidence> evidence = new ArrayList<>();
    evidence.add(new Evidence("serving_variables", t.servingVariables()));
    evidence.add(new Evidence("training_variables", t.trainingVariables()));
    evidence.add(new Evidence("training_node", t.node()));
    evidence.add(new Evidence("serving_statistics_at_initial_values", servingAtInit ? "yes" : "no"));
    if (t.trainingMovingMean().length > 0) {
      evidence.add(new Evidence("training_set_mean_of_moving_mean", mean(t.trainingMovingMean())));
      evidence.add(new Evidence("training_set_mean_of_moving_variance", mean(t.trainingMovingVariance())));
    }
    return Optional.of(new Finding(code(), Severity.ERROR, context.index(), layer.name(), message, evidence, FIX));
  }

  private static boolean allEqual(double[] values, double expected) {
    for (double v : values) {
      if (v != expected) {
        return false;
      }
    }
    return true;
  }

  private static double mean(double[] values) {
    double sum = 0;
    for (double v : values) {
      sum += v;
    }
    return values.length == 0 ? Double.NaN : sum / values.length;
  }
}
