package dev.bncheck.report;

/**
 * Visible escapes for the characters that act on a terminal or a log instead of showing: a layer
 * name from a model could otherwise start a new line that looks like bncheck's own ({@code
 * [BN000] PASS}), clear the screen with an escape sequence, or reverse the text after it. Applied
 * to every model- or user-supplied string in the text, Markdown, HTML and JUnit reports and in
 * messages on stderr. The JSON report keeps the exact strings (JSON escapes them its own way), so
 * a backslash is not doubled here: the escapes are for reading, not for parsing back.
 */
public final class ControlCharacters {

  private static final String HEX = "0123456789abcdef";

  private ControlCharacters() {}

  /**
   * The text with C0 controls, DEL and C1 controls as {@code \n}, {@code \r}, {@code \t} or
   * {@code \x1b}, and Unicode line and paragraph separators and bidirectional embeddings,
   * overrides and isolates (U+2028 to U+202E, U+2066 to U+2069) as a backslash, {@code u} and
   * four hex digits.
   */
  public static String escape(String text) {
    if (text == null || text.chars().noneMatch(ControlCharacters::acts)) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) {
            out.append("\\x").append(HEX.charAt(c >> 4)).append(HEX.charAt(c & 0xf));
          } else if (acts(c)) {
            out.append("\\u").append(HEX.charAt(c >> 12)).append(HEX.charAt((c >> 8) & 0xf))
                .append(HEX.charAt((c >> 4) & 0xf)).append(HEX.charAt(c & 0xf));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }

  private static boolean acts(int c) {
    return c <= 0x1f || (c >= 0x7f && c <= 0x9f) || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
  }
}
