package dev.bncheck.cli;

import dev.bncheck.analysis.FailOn;
import dev.bncheck.report.ReportFormat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options every command that writes a report shares. */
public final class CommonOptions {

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
      description = "Report format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).",
      converter = FormatConverter.class, completionCandidates = FormatCandidates.class)
  ReportFormat format;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE",
      description = "Write the report to FILE (atomically) instead of standard output; without --format, in the"
          + " format its extension names (.json, .md, .html, .xml for JUnit), else as text.")
  Path output;

  @Option(names = "--report", paramLabel = "FORMAT=FILE", converter = ExtraReportConverter.class,
      description = "Also write the report in FORMAT to FILE (atomically), e.g. junit=bncheck.xml; repeatable.")
  List<ExtraReport> reports = new ArrayList<>();

  @Option(names = "--fail-on", paramLabel = "LEVEL", defaultValue = "error",
      description = "Exit with 1 when a finding is at or above LEVEL: info, warning, error or never"
          + " (default: ${DEFAULT-VALUE}).",
      converter = FailOnConverter.class)
  FailOn failOn;

  @Option(names = "--require-bn",
      description = "Exit with 1 when the model has no batch-normalization layer: in a CI gate, an empty, truncated"
          + " or wrong artifact must not pass for want of anything to check.")
  boolean requireBn;

  @Mixin Verbosity verbosity;

  @Option(names = "--config", paramLabel = "FILE",
      description = "Project settings (default: ./bncheck.json if present): option defaults and findings to ignore"
          + " with a reason (docs/ci.md).")
  Path config;

  @Option(names = "--baseline", paramLabel = "FILE",
      description = "Findings accepted earlier: when FILE does not exist, record this run's findings in it and pass;"
          + " when it does, fail only on findings that are new or worse.")
  Path baseline;

  /** Lower-case names on the command line for the report formats a command writes (all, unless it says). */
  static class FormatConverter implements picocli.CommandLine.ITypeConverter<ReportFormat> {
    private final List<ReportFormat> formats;

    FormatConverter() {
      this(List.of(ReportFormat.values()));
    }

    FormatConverter(List<ReportFormat> formats) {
      this.formats = formats;
    }

    @Override
    public ReportFormat convert(String value) {
      for (ReportFormat f : formats) {
        if (f.label().equals(value)) {
          return f;
        }
      }
      throw new picocli.CommandLine.TypeConversionException(
          "expected one of " + String.join(", ", new FormatCandidates(formats)) + ", got '" + value + "'");
    }
  }

  static class FormatCandidates extends java.util.ArrayList<String> {
    private static final long serialVersionUID = 1L;

    FormatCandidates() {
      this(List.of(ReportFormat.values()));
    }

    FormatCandidates(List<ReportFormat> formats) {
      for (ReportFormat f : formats) {
        add(f.label());
      }
    }
  }

  /** One {@code --report FORMAT=FILE}: the same report again, in another format, in a file. */
  record ExtraReport(ReportFormat format, Path file) {

    /** As the user wrote it, for messages. */
    String option() {
      return "--report " + format.label() + "=" + file;
    }
  }

  static final class ExtraReportConverter implements picocli.CommandLine.ITypeConverter<ExtraReport> {
    @Override
    public ExtraReport convert(String value) {
      int eq = value.indexOf('=');
      if (eq <= 0 || eq == value.length() - 1) {
        throw new picocli.CommandLine.TypeConversionException(
            "expected FORMAT=FILE, e.g. junit=bncheck.xml, got '" + value + "'");
      }
      String format = value.substring(0, eq);
      for (ReportFormat f : ReportFormat.values()) {
        if (f.label().equals(format)) {
          return new ExtraReport(f, Path.of(value.substring(eq + 1)));
        }
      }
      throw new picocli.CommandLine.TypeConversionException("unknown format '" + format + "' in '" + value
          + "': expected one of " + String.join(", ", new FormatCandidates()));
    }
  }

  static final class FailOnConverter implements picocli.CommandLine.ITypeConverter<FailOn> {
    @Override
    public FailOn convert(String value) {
      for (FailOn f : FailOn.values()) {
        if (f.label().equals(value)) {
          return f;
        }
      }
      throw new picocli.CommandLine.TypeConversionException(
          "expected info, warning, error or never, got '" + value + "'");
    }
  }
}
