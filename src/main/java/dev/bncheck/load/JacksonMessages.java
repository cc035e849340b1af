package dev.bncheck.load;

/**
 * Jackson's parse errors end with advice for the programmer (which feature to enable, which
 * limit of which class was hit); a user of bncheck can act on neither, so messages keep the
 * first line without it.
 */
public final class JacksonMessages {

  private JacksonMessages() {}

  public static String plain(String message) {
    String first = message == null ? "" : message.lines().findFirst().orElse("");
    return first.replaceAll(", from `[^`]*`", "").replaceAll(":? *\\(?enable `[^`]*` to allow\\)?", "").strip();
  }
}
