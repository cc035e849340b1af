package dev.bncheck.app;

/**
 * A command line that the input makes meaningless, found below the parser once the model's kind
 * is known (for example {@code --synthetic} given for a model that no backend runs): a usage
 * error, reported as the parser reports its own, with exit code 2.
 */
public final class UsageException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public UsageException(String message) {
    super(message);
  }
}
