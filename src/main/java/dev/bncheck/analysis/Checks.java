package dev.bncheck.analysis;

import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Every check, sorted by code; a new finding is one class plus one line here. */
public final class Checks {

  /**
   * The checks on the model as a whole, run after the layer checks; BN002 is both, for the layers
   * that could not be read.
   */
  public static final List<ModelCheck> MODEL =
      List.of(new TrainingModeInGraph(), new BatchSizeDependence(), new CalibrationDataMismatch());

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
          new BarelyMovedStatistics(),
          new EpsilonDominance());

  /** What every check, of a layer or of the model, declares, sorted by code: what the docs and reports list. */
  public static final List<CheckDeclaration> DECLARATIONS = Stream.concat(
          ALL.stream().map(Check::declaration), MODEL.stream().map(ModelCheck::declaration))
      .distinct()
      .sorted(Comparator.comparing(CheckDeclaration::code))
      .toList();

  private Checks() {}
}
