package dev.bncheck.load;

import java.util.function.IntFunction;

/**
 * Which sample of a run that failed is to blame, for both backends: a bad value in one sample was
 * reported as all 32 of its batch.
 */
public final class FailingSample {

  private FailingSample() {}

  /**
   * Runs samples {@code [start, start + count)} of a failed run alone, one after another, and
   * throws the failure of the first that fails alone, which names it. Returns whether every sample
   * runs alone (the failure needs them together); false, without naming a sample, where the next
   * one fails alone for the same reason too (the model fails whatever the data, as with an input
   * it needs and is not fed).
   *
   * @param failureAlone runs one sample alone; what stopped it, naming that sample, or null where it ran
   */
  public static boolean eachRunsAlone(int start, int count, IntFunction<InvalidInputException> failureAlone) {
    for (int i = 0; i < count; i++) {
      InvalidInputException failure = failureAlone.apply(start + i);
      if (failure == null) {
        continue;
      }
      InvalidInputException next = i + 1 < count ? failureAlone.apply(start + i + 1) : null;
      if (next != null && reason(next).equals(reason(failure))) {
        return false;
      }
      throw failure;
    }
    return true;
  }

  /** The runtime's own first line, which does not name the sample. */
  private static String reason(InvalidInputException e) {
    Throwable cause = e.getCause() == null ? e : e.getCause();
    String message = String.valueOf(cause.getMessage());
    return message.lines().findFirst().orElse(message).strip();
  }
}
