package dev.bncheck.analysis;

import dev.bncheck.engine.ChannelMoments;
import java.util.List;
import java.util.Optional;

/**
 * BN010: the calibration data itself holds NaN or infinite values. They are left out of every
 * statistic, and the finding says how many there were, since such inputs usually mean broken
 * preprocessing or an upstream layer that already overflows.
 */
public final class NonFiniteCalibrationData implements Check {

  @Override
  public String code() {
    return "BN010";
  }

  @Override
  public String title() {
    return "non-finite values in the calibration data";
  }

  @Override
  public boolean needsCalibration() {
    return true;
  }

  @Override
  public Optional<Finding> check(LayerContext context) {
    ChannelMoments population = context.calibration().orElseThrow().population();
    long total = population.totalNonFinite();
    if (total == 0) {
      return Optional.empty();
    }
    List<Integer> channels = ChannelList.where(population.channels(), c -> population.nonFinite()[c] > 0);
    String message = total + " NaN or infinite calibration values in " + ChannelList.describe(channels)
        + "; they were left out of the statistics";
    String fix =
        "find where the non-finite values come from: preprocessing (division by zero, log of 0),"
            + " a corrupt input file, or an upstream layer that overflows; bncheck's numbers for this"
            + " layer only describe the finite values.";
    return Optional.of(new Finding(code(), Severity.WARNING, context.index(), context.layer().name(), message,
        List.of(new Evidence("non_finite_values", total),
            new Evidence("channels", ChannelList.head(channels)),
            new Evidence("channel_count", channels.size())),
        fix));
  }
}
