package dev.bncheck.app;

/** An output could not be written where the user asked; a usage error, not a bad input. */
public final class OutputException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public OutputException(String message, Throwable cause) {
    super(message, cause);
  }
}
