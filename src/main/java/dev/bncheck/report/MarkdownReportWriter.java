package dev.bncheck.report;

import dev.bncheck.analysis.Finding;
import dev.bncheck.analysis.LayerResult;
import dev.bncheck.analysis.Report;
import dev.bncheck.model.Numbers;
import dev.bncheck.model.UnresolvedLayer;
import java.io.IOException;
import java.io.Writer;
import java.util.stream.Collectors;

/**
 * The report as GitHub-flavoured Markdown, for pull-request comments and CI job summaries: the
 * verdict first, a compact layer table, then each finding with its evidence and fix folded away.
 */
public final class MarkdownReportWriter implements ReportWriter {

  @Override
  public void write(Report report, Writer out) throws IOException {
    StringBuilder s = new StringBuilder();
    title(report, s);
    modelAndData(report, s);
    layerTable(report, s);
    unresolved(report, s);
    findings(report, s);
    skipped(report, s);
    out.write(s.toString());
  }

  private static void title(Report report, StringBuilder s) {
    s.append("## bncheck ").append(report.run().command()).append(": ").append(report.failed() ? "FAIL" : "PASS")
        .append(" — ").append(ReportText.counts(report)).append(" (--fail-on ").append(report.run().failOn().label())
        .append(")\n\n");
    report.dataChecksSkipped().ifPresent(reason -> s.append("**The data checks did not run:** ")
        .append(Markdown.text(reason)).append("\n\n"));
  }

  private static void modelAndData(Report report, StringBuilder s) {
    var model = report.model();
    s.append("**Model:** ").append(Markdown.code(model.location())).append(" (").append(Markdown.text(model.format()));
    if (model.framework() != null) {
      s.append(", framework ").append(Markdown.text(model.framework()));
    }
    if (model.modelName() != null) {
      s.append(", name ").append(Markdown.text(model.modelName()));
    }
    int layers = model.layers().size();
    s.append(", ").append(layers).append(layers == 1 ? " BN layer" : " BN layers").append("), sha256 ")
        .append(Markdown.code(report.run().modelSha256())).append("\n\n");
    s.append("**Data:** ").append(Markdown.text(report.run().data()));
    if (report.run().dataSha256() != null) {
      s.append(", sha256 ").append(Markdown.code(report.run().dataSha256()));
    }
    report.firstData().ifPresent(c -> s.append(", ").append(c.samplesText()));
    if (!report.run().batches().isEmpty()) {
      s.append("; batches: ").append(Markdown.text(report.run().batches()));
    }
    s.append("\n\n");
  }

  private static void layerTable(Report report, StringBuilder s) {
    if (report.layers().isEmpty()) {
      s.append(report.model().unresolved().isEmpty() ? ReportText.noLayers(report) + "\n\n" : "");
      return;
    }
    s.append("| layer | channels | status | worst mean shift | worst variance ratio | mode RMS |\n");
    s.append("|---|---:|---|---:|---:|---:|\n");
    for (LayerResult r : report.layers()) {
      s.append("| ").append(Markdown.codeCell(r.layer().name()))
          .append(" | ").append(r.layer().channels())
          .append(" | ").append(ReportText.status(r))
          .append(" | ").append(r.metrics().map(m -> Numbers.brief(m.worstMeanShift().value())).orElse("-"))
          .append(" | ").append(r.metrics().map(m -> Numbers.brief(m.worstVarianceRatio().value())).orElse("-"))
          .append(" | ").append(r.metrics().map(m -> ReportText.modeRms(m.layerModeRelativeRms())).orElse("-"))
          .append(" |\n");
    }
    s.append('\n');
  }

  private static void unresolved(Report report, StringBuilder s) {
    if (report.model().unresolved().isEmpty()) {
      return;
    }
    s.append("**Not analysed** (BN layers whose parameters could not be read, or that keep no running statistics):\n\n");
    for (UnresolvedLayer u : report.model().unresolved()) {
      s.append("- ").append(Markdown.code(u.name())).append(" at ").append(Markdown.code(u.node())).append(": ")
          .append(Markdown.text(u.reason())).append(u.trainingMode() ? " (training mode)" : "").append('\n');
    }
    s.append('\n');
  }

  /** Each finding on one line; evidence and fix in a collapsed block so that long reports stay scannable. */
  private static void findings(Report report, StringBuilder s) {
    if (report.findings().isEmpty()) {
      s.append("No findings.\n\n");
      return;
    }
    s.append("### Findings\n\n");
    for (Finding f : report.findings()) {
      s.append("- **[").append(f.code()).append("] ").append(f.severity().label()).append("** ")
          .append(Markdown.code(f.layer())).append(": ").append(Markdown.text(f.message()))
          .append(" (see ").append(Markdown.text(f.docsLink())).append(")")
          .append(f.suppressed().map(r -> " — *suppressed: " + Markdown.text(r.reason()) + "*").orElse("")).append("\n");
      s.append("  <details><summary>evidence and fix</summary>\n\n");
      s.append("  evidence: ").append(f.evidence().stream().map(e -> Markdown.code(ReportText.evidence(e)))
          .collect(Collectors.joining(", "))).append("\n\n");
      s.append("  fix: ").append(Markdown.text(f.fix())).append("\n\n");
      s.append("  </details>\n\n");
    }
  }

  private static void skipped(Report report, StringBuilder s) {
    var lines = ReportText.Skipped.of(report);
    if (lines.isEmpty()) {
      return;
    }
    s.append("### Skipped checks\n\n");
    for (ReportText.Skipped line : lines) {
      s.append("- ").append(Markdown.text(line.checks())).append(": ")
          .append(line.allOf(report)
              ? "all " + line.layers().size() + " layers"
              : line.layers().stream().map(Markdown::code).collect(Collectors.joining(", ")))
          .append('\n');
    }
    s.append('\n');
  }
}
