package dev.bncheck.load;

/**
 * Jackson's parse errors end with advice for the programmer (which feature to enable, which
 * limit of which class was hit) and name the source as {@code [Source: REDACTED (...); line: 1,
 * column: 5]}; a user of bncheck can act on neither, so messages keep the first line without the
 * advice and with the position alone.
 */
public final class JacksonMessages {

  private JacksonMessages() {}

  public static String plain(String message) {
    String first = message == null ? "" : message.lines().findFirst().orElse("");
    return first.replaceAll(", from `[^`]*`", "").replaceAll(":? *\\(?enable `[^`]*` to allow\\)?", "")
        .replaceAll("\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)\\]", "line $1, column $2").strip();
  }
}
