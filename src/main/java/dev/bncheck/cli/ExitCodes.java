package dev.bncheck.cli;

/** The exit codes, a documented contract (README): never a count of findings. */
public final class ExitCodes {

  /** No finding at or above {@code --fail-on}. */
  public static final int PASS = 0;
  /** Findings at or above {@code --fail-on}. */
  public static final int FINDINGS = 1;
  /** The command line is wrong. */
  public static final int USAGE = 2;
  /** An input is unreadable or invalid. */
  public static final int INVALID_INPUT = dev.bncheck.load.InvalidInputException.EXIT_CODE;
  /** A bug in bncheck. */
  public static final int INTERNAL_ERROR = 4;

  private ExitCodes() {}
}
