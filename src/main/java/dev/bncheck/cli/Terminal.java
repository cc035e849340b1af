package dev.bncheck.cli;

/** Whether standard output is a terminal that should get colour (https://no-color.org). */
final class Terminal {

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
}
