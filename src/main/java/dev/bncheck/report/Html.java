package dev.bncheck.report;

/**
 * Escaping for the HTML report. Everything that comes from the model (layer names, node names,
 * messages) goes through {@link #text}, in element content, attribute values and SVG text alike,
 * so that no name can close a tag, open one or end an attribute.
 */
final class Html {

  private Html() {}

  /**
   * The text with {@code & < > " '} as character references, and the control characters HTML
   * forbids (C0 other than tab, newline and carriage return, DEL and C1) as U+FFFD, so that the
   * page stays valid whatever a name contains.
   */
  static String text(String raw) {
    if (raw == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(raw.length() + 16);
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> {
          if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0x7f && c <= 0x9f)) {
            out.append('\uFFFD');
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }
}
