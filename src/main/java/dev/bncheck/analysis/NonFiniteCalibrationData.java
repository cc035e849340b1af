package dev.bncheck.analysis;

import dev.bncheck.analysis.CheckDeclaration.DataNeed;
import dev.bncheck.engine.ChannelMoments;
import java.util.List;
import java.util.Optional;

/**
 * BN010: the calibration data itself holds NaN or infinite values. They are left out of every
 * statistic, and the finding says how many there were, since such inputs usually mean broken
 * preprocessing or an upstream layer that already overflows. A layer that received no finite
 * value at all is an error: nothing about it can be judged.
 */
@Declares(code = "BN010", title = "non-finite values in the calibration data", data = DataNeed.VALUES)
public final class NonFiniteCalibrationData implements Check {

  @Override
  public Optional<Finding> check(LayerContext context) {
    ChannelMoments population = context.calibration().orElseThrow().population();
    if (population.totalNonFinite() == 0 && context.judgedOnTrainingView()) {
      // the training view the layer is judged on: NaN there, left out, would leave a verdict of nothing
      population = context.statisticsCalibration().orElseThrow().population();
      if (population.totalNonFinite() > 0) {
        return finding(context, population, " in its training view (every BN layer in training mode)");
      }
    }
    return population.totalNonFinite() == 0 ? Optional.empty() : finding(context, population, "");
  }

  private Optional<Finding> finding(LayerContext context, ChannelMoments population, String view) {
    long total = population.totalNonFinite();
    List<Integer> channels = ChannelList.where(population.channels(), c -> population.nonFinite()[c] > 0);
    // nothing finite reached the layer: there is nothing to judge it on, and the model's outputs
    // are not numbers either; a gate must not pass on that
    boolean nothingFinite = java.util.stream.IntStream.range(0, population.channels())
        .allMatch(c -> population.count()[c] == 0);
    String message = nothingFinite
        ? "every calibration value reaching the layer" + view + " is NaN or infinite (" + total + " values): nothing"
            + " can be judged on this data, and the model's outputs are not numbers either"
        : total + " NaN or infinite calibration values" + view + " in " + ChannelList.describe(channels)
            + "; they were left out of the statistics";
    String fix =
        "find where the non-finite values come from: preprocessing (division by zero, log of 0),"
            + " a corrupt input file, or an upstream layer that overflows; bncheck's numbers for this"
            + " layer only describe the finite values.";
    return Optional.of(new Finding(code(), nothingFinite ? Severity.ERROR : Severity.WARNING, context.index(), context.layer().name(), message,
        List.of(new Evidence("non_finite_values", total),
            new Evidence("channels", ChannelList.head(channels)),
            new Evidence("channel_count", channels.size())),
        fix));
  }
}
