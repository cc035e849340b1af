package dev.bncheck.analysis;

import java.util.List;

/** Every check, sorted by code; a new finding is one class plus one line here. */
public final class Checks {

  public static final List<Check> ALL =
      List.of(
          new NeverUpdatedStatistics(),
          new TrainingModeInGraph(),
          new StaleStatistics(),
          new TrainInferenceDisagreement(),
          new DeadChannels(),
          new InvalidStatistics(),
          new UnsharedVariables(),
          new ConventionMismatch(),
          new NonFiniteCalibrationData(),
          new BarelyMovedStatistics());

  private Checks() {}
}
