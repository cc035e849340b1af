package dev.bncheck.report;

import dev.bncheck.analysis.Report;
import java.io.IOException;
import java.io.Writer;

/** Writes a report in one format. */
public interface ReportWriter {

  void write(Report report, Writer out) throws IOException;
}
