package dev.bncheck.load;

import java.util.Locale;

/**
 * The room left in the Java heap, asked before allocating what an input declares: a few bytes of
 * header can claim gigabytes, and an allocation that cannot fit would end the run with an
 * {@link OutOfMemoryError} instead of a message naming the input.
 */
public final class JavaHeap {

  /** The launcher's variable for JVM options (bin/bncheck). */
  private static final String OPTIONS_VARIABLE = "BNCHECK_JAVA_OPTS";

  private JavaHeap() {}

  /** Whether {@code bytes} more fit in the heap. */
  public static boolean fits(long bytes) {
    if (bytes <= room()) {
      return true;
    }
    if (bytes > Runtime.getRuntime().maxMemory()) {
      return false;
    }
    // Garbage counts as used until it is collected; collect once before refusing.
    System.gc();
    return bytes <= room();
  }

  /**
   * Why {@code bytes} do not fit, for the end of an input error: for example {@code needs 8.0 GB
   * of memory, more than the 1.9 GB left of the Java heap (raise its limit with
   * BNCHECK_JAVA_OPTS=-Xmx16g)}.
   */
  public static String tooLarge(long bytes) {
    return "needs " + size(bytes) + " of memory, more than the " + size(Math.max(0, room()))
        + " left of the Java heap (" + advice(bytes) + ")";
  }

  /**
   * How to give bncheck room for {@code bytes} more than its whole heap, e.g. {@code raise its
   * limit with BNCHECK_JAVA_OPTS=-Xmx16g}.
   */
  public static String advice(long bytes) {
    long max = Runtime.getRuntime().maxMemory();
    long wanted = bytes > Long.MAX_VALUE - max ? Long.MAX_VALUE : max + bytes;
    return "raise its limit with " + OPTIONS_VARIABLE + "=-Xmx" + (wanted / (1L << 30) + 1) + "g";
  }

  /** The heap's limit, e.g. {@code 2.0 GB}. */
  public static String limit() {
    return size(Runtime.getRuntime().maxMemory());
  }

  /** Bytes the heap has room for now, garbage counted as used. */
  public static long room() {
    Runtime r = Runtime.getRuntime();
    return r.maxMemory() - (r.totalMemory() - r.freeMemory());
  }

  private static String size(long bytes) {
    return bytes >= 1L << 30
        ? String.format(Locale.ROOT, "%.1f GB", bytes / (double) (1L << 30))
        : String.format(Locale.ROOT, "%.1f MB", bytes / (double) (1L << 20));
  }
}
