package dev.bncheck.analysis;

import dev.bncheck.analysis.CheckDeclaration.DataNeed;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * BN006: channels whose moving variance is tiny against epsilon or against the layer's other
 * channels. Their normalization divides by almost sqrt(epsilon), so any input that reaches them
 * at inference is amplified by up to 1/sqrt(epsilon).
 */
@Declares(code = "BN006",
    title = "dead or near-dead channels",
    data = DataNeed.NONE,
    supersededBy = {"BN001", "BN007"})
public final class DeadChannels implements Check {

  @Override
  public Optional<Finding> check(LayerContext context) {
    BnLayer layer = context.layer();
    Thresholds t = context.thresholds();
    double[] variance = layer.movingVariance();
    double median = ChannelList.median(variance);
    double eps = layer.epsilon();
    // A channel narrow against the others only, whose data varies as its statistics say, is a live
    // input in small units (a first layer normalizing mixed columns), not a dead one; as are the
    // channels BN013 finds epsilon dominating
    double[] seen = context.metrics().map(m -> m.populationVariance()).orElse(null);
    List<Integer> live = EpsilonDominance.dominated(context);
    List<Integer> dead = ChannelList.where(variance.length,
        c -> !live.contains(c) && (variance[c] < t.deadEpsilonFactor() * eps
            || (variance[c] < t.deadMedianFactor() * median && !(seen != null && EpsilonDominance.confirms(seen[c], variance[c])))));
    if (dead.isEmpty()) {
      return Optional.empty();
    }
    int first = dead.get(0);
    double amplification = 1.0 / Math.sqrt(variance[first] + eps);
    double typical = 1.0 / Math.sqrt(median + eps);
    List<Evidence> evidence = new ArrayList<>();
    evidence.add(new Evidence("dead_channels", ChannelList.head(dead)));
    evidence.add(new Evidence("dead_channel_count", dead.size()));
    evidence.add(new Evidence("moving_variance", variance[first]));
    evidence.add(new Evidence("median_moving_variance", median));
    evidence.add(new Evidence("epsilon", eps));
    evidence.add(new Evidence("amplification", amplification));
    evidence.add(new Evidence("median_amplification", typical));
    String message = String.format(Locale.ROOT,
        "%s of %d near-dead: moving_variance %s in channel %d (median %s, epsilon %s), so its input is"
            + " amplified by 1/sqrt(var+eps) = %s against %s for a typical channel",
        ChannelList.describe(dead), variance.length, Numbers.brief(variance[first]), first,
        Numbers.brief(median), Numbers.brief(eps), Numbers.brief(amplification), Numbers.brief(typical));
    if (context.metrics().isPresent()) {
      double seenFirst = context.metrics().get().populationVariance()[first];
      evidence.add(new Evidence("population_variance", seenFirst));
      message += String.format(Locale.ROOT, "; the calibration data's variance there is %s", Numbers.brief(seenFirst));
    }
    String fix =
        "a channel whose input is constant (often a ReLU that never fires upstream) carries no"
            + " information; prune it or find why it died (learning rate, initialization, weight decay)."
            + " If the data there is not constant, recompute the statistics; a larger epsilon bounds the"
            + " amplification but changes the trained model.";
    return Optional.of(new Finding(code(), Severity.WARNING, context.index(), layer.name(), message, evidence, fix));
  }
}
