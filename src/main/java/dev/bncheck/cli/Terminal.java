package dev.bncheck.cli;

/**
 * What bncheck's standard streams are connected to: colour for a terminal on standard output
 * (https://no-color.org), progress for a terminal on standard error.
 */
final class Terminal {

  /**
   * Set by bin/bncheck to 1 or 0: whether its own stderr is a terminal. bncheck's stderr is then a
   * pipe into the launcher's filter, and Java 17 has no way to ask about stderr alone.
   */
  static final String STDERR_TERMINAL_VARIABLE = "BNCHECK_STDERR_TERMINAL";

  private Terminal() {}

  static boolean wantsColour() {
    String noColour = System.getenv("NO_COLOR");
    if (noColour != null && !noColour.isEmpty()) {
      return false;
    }
    if ("dumb".equals(System.getenv("TERM"))) {
      return false;
    }
    return System.console() != null;
  }

  /** Whether standard error is a terminal, where progress lines rewritten in place belong. */
  static boolean stderrIsTerminal() {
    return stderrIsTerminal(System.getenv(STDERR_TERMINAL_VARIABLE), System.console() != null);
  }

  /**
   * What the launcher says, else the console: run without the launcher ({@code java -jar},
   * bin\bncheck.cmd), Java gives a console when stdin and stdout are terminals, the nearest it can
   * tell.
   */
  static boolean stderrIsTerminal(String launcherSays, boolean console) {
    if ("1".equals(launcherSays)) {
      return true;
    }
    if ("0".equals(launcherSays)) {
      return false;
    }
    return console;
  }
}
