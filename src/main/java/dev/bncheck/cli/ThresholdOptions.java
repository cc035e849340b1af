package dev.bncheck.cli;

import dev.bncheck.analysis.Thresholds;
import dev.bncheck.load.InvalidInputException;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The limits of the statistical checks; defaults are {@link Thresholds#DEFAULTS}. */
public final class ThresholdOptions {

  @Option(names = "--mean-shift-warn", paramLabel = "X", defaultValue = "0.25",
      description = "BN003 warns from this |standardized mean shift| (default: ${DEFAULT-VALUE}).")
  double meanShiftWarning;

  @Option(names = "--mean-shift-error", paramLabel = "X", defaultValue = "0.5",
      description = "BN003 is an error from this |standardized mean shift| (default: ${DEFAULT-VALUE}).")
  double meanShiftError;

  @Option(names = "--var-ratio-warn", paramLabel = "R", defaultValue = "1.5",
      description = "BN003 warns when the variance ratio is above R or below 1/R (default: ${DEFAULT-VALUE}).")
  double varianceRatioWarning;

  @Option(names = "--var-ratio-error", paramLabel = "R", defaultValue = "2.0",
      description = "BN003 is an error when the variance ratio is above R or below 1/R (default: ${DEFAULT-VALUE}).")
  double varianceRatioError;

  @Option(names = "--mode-rms-error", paramLabel = "X", defaultValue = "0.3",
      description = "BN004 fires when training- and inference-mode outputs differ by more than this"
          + " relative RMS (default: ${DEFAULT-VALUE}).")
  double modeRmsError;

  @Option(names = "--dead-eps-factor", paramLabel = "F", defaultValue = "0.01",
      description = "BN006 flags channels whose moving variance is below F x epsilon (default: ${DEFAULT-VALUE}).")
  double deadEpsilonFactor;

  @Option(names = "--dead-median-factor", paramLabel = "F", defaultValue = "1e-4",
      description = "BN006 flags channels whose moving variance is below F x the layer's median"
          + " (default: ${DEFAULT-VALUE}).")
  double deadMedianFactor;

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  /**
   * The thresholds; when they contradict each other, a usage error, or where the config file set
   * one of the values the command line did not, an input error naming the file and its keys.
   */
  Thresholds toThresholds() {
    try {
      return new Thresholds(meanShiftWarning, meanShiftError, varianceRatioWarning, varianceRatioError,
          modeRmsError, deadEpsilonFactor, deadMedianFactor);
    } catch (IllegalArgumentException e) {
      CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
      List<String> fromConfig = spec.options().stream().map(OptionSpec::longestName)
          .filter(name -> !parsed.hasMatchedOption(name))
          .toList();
      ConfigFile config = ((BnCheckCommand) spec.root().userObject()).config;
      List<String> keys = config == null ? List.of() : config.keysSetting(fromConfig);
      if (!keys.isEmpty()) {
        throw new InvalidInputException(config.path().toString(), String.join(", ", keys), e.getMessage());
      }
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }
}
