package dev.bncheck.load;

/**
 * An option value that the input turns out to make impossible, such as {@code --synthetic N}
 * whose samples do not fit in memory: a usage error, found only once the model is read. The
 * message is one line naming the option and its value and stating the limit.
 */
public final class InvalidOptionException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public InvalidOptionException(String optionAndValue, String problem) {
    super(optionAndValue + ": " + problem);
  }
}
