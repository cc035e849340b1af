package dev.bncheck.load;

/**
 * An input that cannot be read or does not describe a valid model: a missing or truncated
 * file, malformed JSON, a wrong shape. The message is one line naming the file and the field or
 * node, ready to show to the user.
 */
public final class InvalidInputException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** The process's exit code for invalid input, for the one place that must end the process itself. */
  public static final int EXIT_CODE = 3;

  public InvalidInputException(String file, String location, String problem) {
    super(oneLine(file + (location.isEmpty() ? "" : ": " + location) + ": " + problem));
  }

  public InvalidInputException(String file, String location, String problem, Throwable cause) {
    super(oneLine(file + (location.isEmpty() ? "" : ": " + location) + ": " + problem), cause);
  }

  /**
   * Names and text quoted from a model (a key, a node name, a parser's message) may hold line
   * breaks; written escaped, the message stays one line whatever the model holds.
   */
  private static String oneLine(String message) {
    return message.replace("\r", "\\r").replace("\n", "\\n");
  }
}
