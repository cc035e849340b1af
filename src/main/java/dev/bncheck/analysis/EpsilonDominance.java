package dev.bncheck.analysis;

import dev.bncheck.analysis.CheckDeclaration.DataNeed;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * BN013: epsilon, not the variance, sets the scale of a large share of a layer's channels whose
 * input the calibration data shows to be alive. A warning: which epsilon trained the model is
 * written nowhere (a published PyTorch model may well be trained with 1e-3), so a CI gate that must
 * catch a lost epsilon fails on warnings. Such a layer shrinks those inputs by
 * sqrt(var / (var + eps)) instead of normalizing them, which is how the model learned only if it
 * was trained with this epsilon; an epsilon lost in a conversion (PyTorch's state_dict does not hold
 * it, and Keras defaults to 1e-3 where PyTorch uses 1e-5) changes the layer's outputs while every
 * statistic stays right. An outside tester's PyTorch MLP whose first layer normalized columns in
 * small units (variance 9e-6), served with epsilon 1e-3 instead of 1e-5, fell from 96% to 66%
 * accuracy and passed.
 */
@Declares(code = "BN013",
    title = "epsilon dominates the variance of live channels",
    data = DataNeed.ESTIMATES,
    supersededBy = {"BN001", "BN007"})
public final class EpsilonDominance implements Check {

  /** Epsilon at least this many times the variance: the channel's scale is about 1/sqrt(eps). */
  static final double DOMINANCE = 10;
  /** The data's variance within this factor of the moving variance confirms the statistics. */
  private static final double CONFIRMED_WITHIN = 4;
  /**
   * A layer is reported when at least this share of its channels is dominated (dead channels,
   * whose data confirms their statistics too, are seldom so many), or any channel is under the
   * other framework's default epsilon, which points to a conversion by itself.
   */
  static final double SHARE = 0.25;

  /**
   * The channels epsilon dominates while the data confirms their statistics, when they are at least
   * {@link #SHARE} of the layer's; else none. However small their variance, such channels in such
   * numbers are live inputs in small units, not the odd channel a ReLU upstream killed.
   */
  static List<Integer> dominated(LayerContext context) {
    if (context.statisticsMetrics().isEmpty()) {
      return List.of();
    }
    BnLayer layer = context.layer();
    double eps = layer.epsilon();
    double[] variance = layer.movingVariance();
    double[] seen = context.statisticsMetrics().get().populationVariance();
    List<Integer> dominated = ChannelList.where(variance.length, c -> variance[c] > 0
        && eps >= DOMINANCE * variance[c] && confirms(seen[c], variance[c]));
    boolean fewEnough = dominated.size() < SHARE * variance.length
        && !ConventionMismatch.otherFrameworksDefault(context.framework(), eps);
    return fewEnough ? List.of() : dominated;
  }

  /** Whether the data's variance {@code seen} confirms a channel's moving variance: live, and within the factor. */
  static boolean confirms(double seen, double moving) {
    return seen > 0 && seen <= CONFIRMED_WITHIN * moving && seen >= moving / CONFIRMED_WITHIN;
  }

  @Override
  public Optional<Finding> check(LayerContext context) {
    List<Integer> dominated = dominated(context);
    if (dominated.isEmpty()) {
      return Optional.empty();
    }
    BnLayer layer = context.layer();
    double eps = layer.epsilon();
    double[] variance = layer.movingVariance();
    double[] seen = context.statisticsMetrics().get().populationVariance();
    int first = dominated.get(0);
    double shrink = Math.sqrt(variance[first] / (variance[first] + eps));
    boolean otherDefault = ConventionMismatch.otherFrameworksDefault(context.framework(), eps);
    List<Evidence> evidence = new ArrayList<>();
    evidence.add(new Evidence("dominated_channels", ChannelList.head(dominated)));
    evidence.add(new Evidence("dominated_channel_count", dominated.size()));
    evidence.add(new Evidence("epsilon", eps));
    evidence.add(new Evidence("moving_variance", variance[first]));
    evidence.add(new Evidence("population_variance", seen[first]));
    evidence.add(new Evidence("epsilon_to_variance", eps / variance[first]));
    evidence.add(new Evidence("output_scale", shrink));
    if (otherDefault) {
      evidence.add(new Evidence("likely_cause", "epsilon_changed"));
    }
    String message = String.format(Locale.ROOT,
        "epsilon %s is %s times the moving variance in %s of %d (channel %d: %s), and the calibration"
            + " data's variance there (%s) confirms the statistics: the layer scales these live inputs by"
            + " sqrt(var/(var+eps)) = %s instead of normalizing them",
        Numbers.brief(eps), Numbers.brief(eps / variance[first]), ChannelList.describe(dominated), variance.length,
        first, Numbers.brief(variance[first]), Numbers.brief(seen[first]), Numbers.brief(shrink));
    message += otherDefault
        ? "; " + Numbers.brief(eps) + " is the other framework's default epsilon, so a conversion most likely"
            + " replaced the one the model was trained with (unless it was trained with this one, which bncheck"
            + " cannot see)"
        : "; that is how the model learned if it was trained with this epsilon, and what breaks it if a"
            + " conversion or a rebuilt layer changed the epsilon";
    String fix = "use the epsilon the model was trained with: PyTorch's state_dict does not hold it (build the"
        + " module with the training code's eps, 1e-5 by default); a port to Keras gets epsilon=1e-3 unless told"
        + " (BatchNormalization(epsilon=...)); converters must carry the attribute over. If it was trained with this"
        + " epsilon, these inputs reached the network shrunk; rescaling them (or a smaller epsilon, then retraining)"
        + " lets the layer normalize them.";
    return Optional.of(new Finding(code(), Severity.WARNING, context.index(), layer.name(), message, evidence, fix));
  }
}
