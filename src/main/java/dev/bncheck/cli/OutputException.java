package dev.bncheck.cli;

/** The report could not be written where the user asked; a usage error, not a bad input. */
final class OutputException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  OutputException(String message, Throwable cause) {
    super(message, cause);
  }
}
