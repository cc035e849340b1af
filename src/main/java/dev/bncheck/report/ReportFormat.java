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
}
