package dev.bncheck.report;

import java.util.ArrayList;
import java.util.List;

/**
 * The Markdown that docs/findings.md's sections are written in, as HTML: paragraphs, lists whose
 * items continue on indented lines, {@code **bold**} and code spans, which may run across a line
 * break. Everything else is text and escaped; a test keeps the sections within this subset.
 */
final class MarkdownHtml {

  private MarkdownHtml() {}

  static String html(String markdown) {
    StringBuilder out = new StringBuilder();
    for (String block : markdown.strip().split("\n\\s*\n")) {
      List<String> paragraph = new ArrayList<>();
      List<List<String>> items = new ArrayList<>();
      for (String line : block.split("\n")) {
        if (line.startsWith("- ")) {
          items.add(new ArrayList<>(List.of(line.substring(2))));
        } else if (!items.isEmpty()) {
          items.get(items.size() - 1).add(line.strip());
        } else {
          paragraph.add(line.strip());
        }
      }
      if (!paragraph.isEmpty()) {
        out.append("<p>").append(inline(String.join(" ", paragraph))).append("</p>\n");
      }
      if (!items.isEmpty()) {
        out.append("<ul>\n");
        for (List<String> item : items) {
          out.append("<li>").append(inline(String.join(" ", item))).append("</li>\n");
        }
        out.append("</ul>\n");
      }
    }
    return out.toString();
  }

  /** Code spans between backticks, bold between double asterisks outside them, the rest escaped. */
  private static String inline(String text) {
    StringBuilder out = new StringBuilder();
    String[] parts = text.split("`", -1);
    for (int i = 0; i < parts.length; i++) {
      if (i % 2 == 1 && i < parts.length - 1) {
        out.append("<code>").append(Html.text(parts[i])).append("</code>");
      } else {
        String[] bold = (i % 2 == 1 ? "`" + parts[i] : parts[i]).split("\\*\\*", -1);
        for (int j = 0; j < bold.length; j++) {
          boolean strong = j % 2 == 1 && j < bold.length - 1;
          out.append(strong ? "<strong>" + Html.text(bold[j]) + "</strong>" : (j % 2 == 1 ? "**" : "") + Html.text(bold[j]));
        }
      }
    }
    return out.toString();
  }
}
