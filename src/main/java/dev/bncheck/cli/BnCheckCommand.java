package dev.bncheck.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The top-level command; it only dispatches to subcommands, which {@link Subcommands} adds. */
@Command(
    name = "bncheck",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Tells whether the batch-normalization layers of a trained model will behave correctly at"
        + " inference time, and if not, which layer, why, and how to fix it.",
    footerHeading = "%nExit codes:%n",
    footer = {
      "  0  pass: no finding at or above --fail-on",
      "  1  findings at or above --fail-on",
      "  2  usage error",
      "  3  unreadable or invalid input",
      "  4  internal error",
      "",
      "Findings are documented in docs/findings.md."
    })
final class BnCheckCommand implements Runnable {

  @Spec CommandSpec spec;

  /** The project config in use, if any; its ignores apply to every report. */
  ConfigFile config;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "Missing a command: inspect, check or recalibrate");
  }
}
