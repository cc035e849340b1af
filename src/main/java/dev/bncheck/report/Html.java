package dev.bncheck.report;

/**
 * Escaping for the HTML report. Everything that comes from the model (layer names, node names,
 * messages) goes through {@link #text}, in element content, attribute values and SVG text alike,
 * so that no name can close a tag, open one or end an attribute.
 */
final class Html {

  private Html() {}

  /**
   * The text with {@code & < > " '} as character references, and control characters and
   * direction overrides as {@link ControlCharacters} shows them: HTML forbids most controls, and
   * an override would reverse the rest of the line it appears in.
   */
  static String text(String text) {
    if (text == null) {
      return "";
    }
    String raw = ControlCharacters.escape(text);
    StringBuilder out = new StringBuilder(raw.length() + 16);
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
