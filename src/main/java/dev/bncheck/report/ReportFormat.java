package dev.bncheck.report;

import java.util.Locale;

/** The report formats; a new format is one writer class plus one constant here. */
public enum ReportFormat {
  TEXT,
  JSON,
  MARKDOWN,
  JUNIT,
  HTML;

  /** The writer for this format; colour applies to text written to a terminal only. */
  public ReportWriter writer(boolean colour) {
    return switch (this) {
      case TEXT -> new TextReportWriter(colour);
      case JSON -> new JsonReportWriter();
      case MARKDOWN -> new MarkdownReportWriter();
      case JUNIT -> new JunitReportWriter();
      case HTML -> new HtmlReportWriter();
    };
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The format a file's extension names ({@code .json}, {@code .md}, {@code .html}, {@code .xml}
   * for JUnit), text for any other: {@code -o report.html} had written a text report into an
   * HTML file.
   */
  public static ReportFormat ofFileName(java.nio.file.Path file) {
    String name = String.valueOf(file.getFileName()).toLowerCase(java.util.Locale.ROOT);
    int dot = name.lastIndexOf('.');
    return switch (dot < 0 ? "" : name.substring(dot + 1)) {
      case "json" -> JSON;
      case "md", "markdown" -> MARKDOWN;
      case "html", "htm" -> HTML;
      case "xml" -> JUNIT;
      default -> TEXT;
    };
  }
}
