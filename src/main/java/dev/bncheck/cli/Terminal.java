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

  /**
   * Whether Java's console is a terminal. Up to Java 21 Java gives a console only then; from Java 22
   * on it gives one to redirected streams too, and only Console.isTerminal, which Java 17 lacks,
   * tells them apart.
   */
  @SuppressWarnings("SystemConsoleNull") // the null check is for the Java versions that return null
  private static boolean consoleIsTerminal() {
    java.io.Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
    } catch (ReflectiveOperationException e) {
      return true;
    }
  }

  static boolean wantsColour() {
    String noColour = System.getenv("NO_COLOR");
    if (noColour != null && !noColour.isEmpty()) {
      return false;
    }
    if ("dumb".equals(System.getenv("TERM"))) {
      return false;
    }
    return consoleIsTerminal();
  }

  /** Whether standard error is a terminal, where progress lines rewritten in place belong. */
  static boolean stderrIsTerminal() {
    return stderrIsTerminal(System.getenv(STDERR_TERMINAL_VARIABLE), consoleIsTerminal());
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
