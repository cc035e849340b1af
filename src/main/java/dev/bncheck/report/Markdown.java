package dev.bncheck.report;

/**
 * Escaping for GitHub-flavoured Markdown. Layer names, paths and messages come from the model
 * and its user, so a name like {@code a|b} or {@code <script>} must show as written, never as a
 * table column or markup; and one item must stay on one line for lists and tables to hold, which
 * {@link ControlCharacters} sees to.
 */
final class Markdown {

  /** Characters Markdown or HTML could read as markup; CommonMark lets any of them be backslash-escaped. */
  private static final String SPECIAL = "\\`*_[]<>|&~";

  private Markdown() {}

  /**
   * Plain text, rendered as written. An underscore between letters or digits is left alone: GFM
   * never reads one there as emphasis, and names like {@code moving_mean} stay readable in the file.
   */
  static String text(String s) {
    String line = ControlCharacters.escape(s);
    StringBuilder out = new StringBuilder(line.length());
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      boolean intraword = c == '_' && i > 0 && i < line.length() - 1
          && Character.isLetterOrDigit(line.charAt(i - 1)) && Character.isLetterOrDigit(line.charAt(i + 1));
      if (SPECIAL.indexOf(c) >= 0 && !intraword) {
        out.append('\\');
      }
      out.append(c);
    }
    return out.toString();
  }

  /**
   * A code span. Backslashes do not escape inside one, so a backtick in the text needs a longer
   * fence instead, and a space inside the fence keeps a leading or trailing backtick apart from it.
   */
  static String code(String s) {
    String content = ControlCharacters.escape(s);
    int longest = 0;
    int run = 0;
    for (int i = 0; i < content.length(); i++) {
      run = content.charAt(i) == '`' ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    String fence = "`".repeat(longest + 1);
    boolean pad = content.startsWith("`") || content.endsWith("`") || content.startsWith(" ") || content.endsWith(" ");
    String inner = pad ? " " + content + " " : content;
    return fence + inner + fence;
  }

  /** A code span in a table cell: GFM splits cells at pipes before it reads code spans, even inside them. */
  static String codeCell(String s) {
    return code(s).replace("|", "\\|");
  }
}
