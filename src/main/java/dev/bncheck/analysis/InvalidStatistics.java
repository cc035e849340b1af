package dev.bncheck.analysis;

import dev.bncheck.analysis.CheckDeclaration.DataNeed;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** BN007: non-finite or negative statistics or parameters, which poison every output. */
@Declares(code = "BN007", title = "non-finite or negative statistics or parameters", data = DataNeed.NONE)
public final class InvalidStatistics implements Check {

  @Override
  public Optional<Finding> check(LayerContext context) {
    BnLayer layer = context.layer();
    List<String> problems = new ArrayList<>();
    List<Evidence> evidence = new ArrayList<>();
    nonFinite("moving_mean", layer.movingMean(), problems, evidence);
    nonFinite("moving_variance", layer.movingVariance(), problems, evidence);
    nonFinite("gamma", layer.gamma(), problems, evidence);
    nonFinite("beta", layer.beta(), problems, evidence);
    double[] variance = layer.movingVariance();
    List<Integer> negative = ChannelList.where(variance.length, c -> variance[c] < 0);
    if (!negative.isEmpty()) {
      problems.add("moving_variance is negative in " + ChannelList.describe(negative)
          + " (" + Numbers.brief(variance[negative.get(0)]) + " in channel " + negative.get(0) + ")");
      evidence.add(new Evidence("negative_moving_variance_channels", ChannelList.head(negative)));
      evidence.add(new Evidence("negative_moving_variance_count", negative.size()));
    }
    if (!Double.isFinite(layer.epsilon()) || layer.epsilon() < 0) {
      problems.add("epsilon is " + Numbers.brief(layer.epsilon()));
      evidence.add(new Evidence("epsilon", layer.epsilon()));
    }
    if (problems.isEmpty()) {
      return Optional.empty();
    }
    String fix =
        "find where the values went bad: NaN statistics usually come from a diverged training step"
            + " (lower the learning rate, clip gradients, check inputs for NaN) or from a conversion"
            + " that misread the tensors; retrain from the last good checkpoint or recompute the"
            + " statistics on clean data.";
    return Optional.of(
        new Finding(code(), Severity.ERROR, context.index(), layer.name(), String.join("; ", problems),
            evidence, fix));
  }

  private static void nonFinite(String field, double[] values, List<String> problems, List<Evidence> evidence) {
    List<Integer> bad = ChannelList.where(values.length, c -> !Double.isFinite(values[c]));
    if (bad.isEmpty()) {
      return;
    }
    long nan = bad.stream().filter(c -> Double.isNaN(values[c])).count();
    String kinds = nan == bad.size() ? "NaN" : nan == 0 ? "infinite" : "NaN or infinite";
    problems.add(field + " is " + kinds + " in " + ChannelList.describe(bad));
    evidence.add(new Evidence(field + "_non_finite_channels", ChannelList.head(bad)));
    evidence.add(new Evidence(field + "_non_finite_count", bad.size()));
  }
}
