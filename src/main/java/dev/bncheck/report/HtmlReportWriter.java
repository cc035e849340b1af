package dev.bncheck.report;

import dev.bncheck.analysis.CheckOutcome;
import dev.bncheck.analysis.Finding;
import dev.bncheck.analysis.LayerResult;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.Severity;
import dev.bncheck.analysis.Subject;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.VectorSummary;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Numbers;
import dev.bncheck.model.UnresolvedLayer;
import java.io.IOException;
import java.io.Writer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The report as one self-contained HTML page: inline CSS and SVG, no scripts, fonts or network
 * access. A summary, an overview chart of every layer, a collapsible drill-down per layer with
 * per-channel charts, and the findings. Everything from the model is escaped; the output depends on
 * the report alone, so that it can be compared with a golden file.
 */
public final class HtmlReportWriter implements ReportWriter {

  // The page is read on any screen a CI artifact is opened on: charts scale down with their viewBox,
  // and a word too long for the line (a hash, a path, a TensorFlow call in a fix) breaks where it
  // must rather than widen the page past the window.
  private static final String CSS = """
      :root { color-scheme: light; }
      body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 24px;
        color: #1f2328; background: #fff; line-height: 1.45; max-width: 1160px; overflow-wrap: anywhere; }
      h1 { font-size: 1.5em; margin: 0 0 12px; } h2 { font-size: 1.2em; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; }
      h3 { font-size: 1em; margin: 16px 0 6px; }
      code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; }
      table { border-collapse: collapse; margin: 6px 0; } th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; }
      th { overflow-wrap: normal; }
      table.grid th, table.grid td { border-bottom: 1px solid #eaeef2; padding: 3px 10px; } td.num { text-align: right; }
      .verdict { display: inline-block; padding: 4px 14px; border-radius: 6px; color: #fff; font-weight: 700; margin-right: 10px; }
      .verdict.fail { background: #c62828; } .verdict.pass { background: #2e7d32; }
      .badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 0.85em; font-weight: 600; color: #fff; }
      .badge.error { background: #c62828; } .badge.warning { background: #b26a00; } .badge.info { background: #0277bd; }
      .badge.ok { background: #2e7d32; } .badge.nodata { background: #8c959f; } .badge.suppressed { background: #6e7781; }
      details.layer { border: 1px solid #d0d7de; border-radius: 6px; margin: 6px 0; padding: 4px 10px; }
      details.layer > summary { cursor: pointer; font-weight: 600; }
      .charts { display: flex; flex-wrap: wrap; gap: 12px; }
      .finding { border-left: 4px solid #8c959f; padding: 4px 10px; margin: 10px 0; background: #f6f8fa; }
      .finding.error { border-color: #c62828; } .finding.warning { border-color: #b26a00; } .finding.info { border-color: #0277bd; }
      .finding.suppressed { opacity: 0.75; }
      .muted { color: #57606a; } .legend span { margin-right: 14px; } .legend i { display: inline-block; width: 12px;
        height: 12px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
      svg { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; font-size: 12px;
        max-width: 100%; height: auto; }
      svg .title { font-weight: 600; font-size: 12px; fill: #1f2328; } svg .tick { fill: #57606a; font-size: 11px; }
      svg .name { fill: #1f2328; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 11.5px; }
      svg .value { fill: #1f2328; font-size: 11px; } svg .nodata { fill: #8c959f; font-style: italic; }
      svg .stripe { fill: #f6f8fa; } svg .grid { stroke: #eaeef2; } svg .axis { stroke: #8c959f; }
      svg .limit { stroke-width: 1.5; stroke-dasharray: 4 3; } svg .limit-warning { stroke: #b26a00; } svg .limit-error { stroke: #c62828; }
      svg .limit-label { font-size: 10px; } svg .limit-label.warning { fill: #b26a00; } svg .limit-label.error { fill: #c62828; }
      svg .gap { stroke: #afb8c1; stroke-width: 1; } svg .pop { fill: #fff; stroke: #24292f; stroke-width: 1; }
      svg .nan { fill: #c62828; font-weight: 700; }
      .st-ok { fill: #2e7d32; } .st-info { fill: #0277bd; } .st-warning { fill: #e69500; } .st-error { fill: #c62828; }
      .sw-ok { background: #2e7d32; } .sw-info { background: #0277bd; } .sw-warning { background: #e69500; }
      .sw-error { background: #c62828; } .sw-nodata { background: #d0d7de; }
      """;

  @Override
  public void write(Report report, Writer out) throws IOException {
    StringBuilder s = new StringBuilder();
    String title = "bncheck " + report.run().command() + ": " + report.model().location();
    s.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<meta name=\"generator\" content=\"bncheck ").append(Html.text(report.run().toolVersion())).append("\">\n")
        .append("<title>").append(Html.text(title)).append("</title>\n<style>\n").append(CSS).append("</style>\n")
        .append("</head>\n<body>\n");
    summary(report, s);
    overview(report, s);
    unresolved(report, s);
    batchSizeChecks(report, s);
    layers(report, s);
    findings(report, s);
    skipped(report, s);
    explanations(report, s);
    s.append("<p class=\"muted\">Written by bncheck ").append(Html.text(report.run().toolVersion()))
        .append(". Metrics are defined in docs/findings.md; this page's format in docs/report-format.md.</p>\n");
    s.append("</body>\n</html>\n");
    out.write(s.toString());
  }

  private static void summary(Report report, StringBuilder s) {
    var model = report.model();
    var run = report.run();
    s.append("<h1>bncheck ").append(Html.text(run.command())).append(": <code>").append(Html.text(model.location()))
        .append("</code></h1>\n");
    s.append("<p><span class=\"verdict ").append(report.failed() ? "fail\">FAIL" : "pass\">PASS").append("</span>");
    if (report.failed()) {
      s.append(report.failingCount()).append(report.failingCount() == 1 ? " finding" : " findings")
          .append(" at or above <code>--fail-on ").append(Html.text(run.failOn().label())).append("</code>");
    } else {
      s.append("no findings at or above <code>--fail-on ").append(Html.text(run.failOn().label())).append("</code>");
    }
    ReportText.suppressed(report).ifPresent(suppressed -> s.append("; ").append(Html.text(suppressed)));
    s.append("</p>\n<table class=\"grid\" id=\"counts\">\n<tr><th>error</th><th>warning</th><th>info</th><th>suppressed</th></tr>\n<tr>");
    for (Severity sev : List.of(Severity.ERROR, Severity.WARNING, Severity.INFO)) {
      long n = report.count(sev);
      s.append("<td class=\"num\">").append(n == 0 ? "0" : "<span class=\"badge " + sev.label() + "\">" + n + "</span>")
          .append("</td>");
    }
    s.append("<td class=\"num\">").append(report.suppressedCount()).append("</td></tr>\n</table>\n");
    s.append("<table id=\"run\">\n");
    row(s, "model", "<code>" + Html.text(model.location()) + "</code>");
    row(s, "format", Html.text(model.format()));
    row(s, "framework", model.framework() == null ? "<span class=\"muted\">unknown</span>" : Html.text(model.framework()));
    if (model.modelName() != null) {
      row(s, "name", Html.text(model.modelName()));
    }
    row(s, "model sha256", "<code>" + Html.text(run.modelSha256()) + "</code>");
    row(s, "BN layers", model.layers().size() + (model.unresolved().isEmpty() ? ""
        : " (and " + model.unresolved().size() + " that could not be read)"));
    row(s, "data", Html.text(run.data()) + (run.dataSha256() == null ? ""
        : ", sha256 <code>" + Html.text(run.dataSha256()) + "</code>"));
    report.firstData().ifPresent(c -> row(s, "samples", c.samplesText()));
    if (!run.batches().isEmpty()) {
      row(s, "batches", Html.text(run.batches()));
    }
    row(s, "bncheck", Html.text(run.toolVersion()));
    if (!run.relaxed().isEmpty()) {
      row(s, "relaxed", Html.text(String.join(", ", run.relaxed())));
    }
    Thresholds t = report.thresholds();
    row(s, "thresholds", "mean shift " + Numbers.brief(t.meanShiftWarning()) + " warning / "
        + Numbers.brief(t.meanShiftError()) + " error; variance ratio " + Numbers.brief(t.varianceRatioWarning())
        + " warning / " + Numbers.brief(t.varianceRatioError()) + " error; mode RMS " + Numbers.brief(t.modeRmsError())
        + " error; dead channel below " + Numbers.brief(t.deadEpsilonFactor()) + " \u00d7 epsilon or "
        + Numbers.brief(t.deadMedianFactor()) + " \u00d7 median variance");
    s.append("</table>\n");
  }

  private static void row(StringBuilder s, String name, String html) {
    s.append("<tr><th>").append(name).append("</th><td>").append(html).append("</td></tr>\n");
  }

  private static void overview(Report report, StringBuilder s) {
    s.append("<h2 id=\"overview\">Layers</h2>\n");
    if (report.layers().isEmpty()) {
      s.append("<p>").append(Html.text(ReportText.noLayers(report))).append("</p>\n");
      return;
    }
    s.append("<p class=\"muted\">Every BN layer in network order: the worst channel's |standardized mean shift| "
        + "(moving mean \u2212 data mean) / \u221a(data variance + \u03b5), and the variance ratio farthest from 1, "
        + "(moving variance + \u03b5) / (data variance + \u03b5). Dashed lines are the warning and error thresholds "
        + "(a ratio below 1 counts as its inverse, so the lines below 1 mirror those above); values beyond an axis "
        + "are drawn at its end.</p>\n");
    s.append("<p class=\"legend\">");
    for (String status : List.of("ok", "info", "warning", "error")) {
      s.append("<span><i class=\"sw-").append(status).append("\"></i>").append(status).append("</span>");
    }
    s.append("<span><i class=\"sw-nodata\"></i>no data</span></p>\n");
    s.append(HtmlCharts.overview(report));
  }

  private static void unresolved(Report report, StringBuilder s) {
    if (report.model().unresolved().isEmpty()) {
      return;
    }
    s.append("<h2 id=\"unresolved\">Not analysed</h2>\n<p>BN layers whose parameters could not be read, or that keep no running statistics:</p>\n<ul>\n");
    for (UnresolvedLayer u : report.model().unresolved()) {
      s.append("<li><code>").append(Html.text(u.name())).append("</code> at <code>").append(Html.text(u.node()))
          .append("</code>: ").append(Html.text(u.reason())).append(u.trainingMode() ? " (training mode)" : "")
          .append("</li>\n");
    }
    s.append("</ul>\n");
  }

  private static void batchSizeChecks(Report report, StringBuilder s) {
    if (report.batchSizeChecks().isEmpty()) {
      return;
    }
    s.append("<h2 id=\"batch-size\">Batch-size checks</h2>\n<table class=\"grid\">\n<tr><th>output</th>"
        + "<th>batch size</th><th>samples</th><th>max |difference|</th><th>relative</th><th>result</th></tr>\n");
    for (var c : report.batchSizeChecks()) {
      s.append("<tr><td><code>").append(Html.text(c.output())).append("</code></td><td class=\"num\">")
          .append(c.batchSize()).append("</td><td class=\"num\">").append(c.samplesCompared())
          .append("</td><td class=\"num\">").append(Numbers.brief(c.maxAbsDifference()))
          .append("</td><td class=\"num\">").append(Numbers.brief(c.relativeDifference())).append("</td><td>")
          .append(c.consistent() ? "consistent" : "<span class=\"badge error\">BN005</span>").append("</td></tr>\n");
    }
    s.append("</table>\n");
  }

  // identity: the one result chosen to open, not every result equal to it
  @SuppressWarnings("ReferenceEquality")
  private static void layers(Report report, StringBuilder s) {
    if (report.layers().isEmpty()) {
      return;
    }
    s.append("<h2 id=\"layer-details\">Layer details</h2>\n");
    Optional<LayerResult> open = report.layers().stream().filter(r -> r.status().isPresent())
        .reduce((a, b) -> b.status().get().compareTo(a.status().get()) > 0 ? b : a);
    for (LayerResult r : report.layers()) {
      layer(report, r, open.isPresent() && open.get() == r, s);
    }
  }

  private static void layer(Report report, LayerResult r, boolean open, StringBuilder s) {
    BnLayer layer = r.layer();
    String status = ReportText.status(r);
    s.append("<details class=\"layer\" id=\"layer-").append(r.index()).append('"').append(open ? " open" : "")
        .append(">\n<summary>").append(r.index()).append(" <code>").append(Html.text(layer.name())).append("</code> ")
        .append("<span class=\"badge ").append(status).append("\">").append(status).append("</span> <span class=\"muted\">")
        .append(layer.channels()).append(layer.channels() == 1 ? " channel" : " channels");
    r.metrics().ifPresent(m -> s.append(", mean shift ").append(Numbers.brief(m.worstMeanShift().value()))
        .append(", variance ratio ").append(Numbers.brief(m.worstVarianceRatio().value()))
        .append(", mode RMS ").append(ReportText.modeRms(m.layerModeRelativeRms())));
    if (r.metrics().isEmpty()) {
      s.append(", no data");
    }
    s.append("</span></summary>\n");
    s.append("<table>\n");
    row(s, "origin", "<code>" + Html.text(layer.origin()) + "</code>");
    row(s, "channel axis", String.valueOf(layer.channelAxis()));
    row(s, "epsilon", Numbers.brief(layer.epsilon()));
    row(s, "momentum", layer.momentum().isPresent()
        ? Numbers.brief(layer.momentum().getAsDouble()) + " (" + Html.text(layer.momentumConvention().jsonName())
            + " convention)"
        : "unknown");
    if (layer.numBatchesTracked().isPresent()) {
      row(s, "num_batches_tracked", String.valueOf(layer.numBatchesTracked().getAsLong()));
    }
    layer.graph().ifPresent(g -> {
      row(s, "graph op", Html.text(g.op()) + (g.trainingMode() ? " <span class=\"badge error\">training mode</span>" : ""));
      row(s, "nodes", String.join(", ", g.nodes().stream().map(n -> "<code>" + Html.text(n) + "</code>").toList()));
    });
    r.calibration().ifPresent(c -> row(s, "calibration", c.batches() + (c.batches() == 1 ? " batch, " : " batches, ")
        + c.samplesText() + ", " + c.valuesPerChannel() + " values per channel, first batch " + Arrays.toString(c.firstBatchShape())
        + (c.nonFiniteValues() > 0 ? ", " + c.nonFiniteValues() + " non-finite values" : "")
        + c.selfCheck().map(check -> "; " + Html.text(ReportText.selfCheck(report.run().runtime(), check))).orElse("")));
    s.append("</table>\n");
    s.append("<table class=\"grid\">\n<tr><th>parameter</th><th>min</th><th>mean</th><th>max</th></tr>\n");
    parameter(s, "gamma", r.gamma(), layer.hasGamma());
    parameter(s, "beta", r.beta(), layer.hasBeta());
    parameter(s, "moving_mean", r.movingMean(), true);
    parameter(s, "moving_variance", r.movingVariance(), true);
    s.append("</table>\n");
    if (r.metrics().isPresent()) {
      s.append("<h3>Moving statistics vs calibration data</h3>\n");
      channelCharts(report, r, r.metrics().get(), s);
    } else {
      s.append("<p class=\"muted\">No calibration data reached this layer, so there are no per-channel charts.</p>\n");
    }
    if (r.trainingViewMetrics().isPresent()) {
      DivergenceMetrics m = r.trainingViewMetrics().get();
      s.append("<h3>Training view (every BN layer in training mode)</h3>\n<p>worst mean shift ")
          .append(Numbers.brief(m.worstMeanShift().value())).append(" in channel ").append(m.worstMeanShift().channel())
          .append(", worst variance ratio ").append(Numbers.brief(m.worstVarianceRatio().value())).append(" in channel ")
          .append(m.worstVarianceRatio().channel()).append(", mode RMS ").append(ReportText.modeRms(m.layerModeRelativeRms()))
          .append("</p>\n");
      channelCharts(report, r, m, s);
    }
    List<Finding> findings = report.findings().stream().filter(f -> f.layerIndex() == r.index()).toList();
    if (!findings.isEmpty()) {
      s.append("<h3>Findings</h3>\n");
      for (Finding f : findings) {
        finding(f, false, false, s);
      }
    }
    s.append("<p class=\"muted\">checks: ");
    List<String> checks = r.checks().stream().map(c -> c.code() + " " + c.status().label()
        + (c.status() == CheckOutcome.Status.SKIPPED ? " (" + Html.text(c.reason()) + ")" : "")).toList();
    s.append(String.join(", ", checks)).append("</p>\n</details>\n");
  }

  private static void channelCharts(Report report, LayerResult r, DivergenceMetrics m, StringBuilder s) {
    String name = r.layer().name();
    s.append("<div class=\"charts\">\n")
        .append(HtmlCharts.means(name, r.layer().movingMean(), m, report.thresholds()))
        .append(HtmlCharts.variances(name, r.layer().movingVariance(), m, report.thresholds()))
        .append("</div>\n");
  }

  private static void parameter(StringBuilder s, String name, VectorSummary v, boolean present) {
    s.append("<tr><td><code>").append(name).append("</code></td>");
    if (present) {
      s.append("<td class=\"num\">").append(Numbers.brief(v.min())).append("</td><td class=\"num\">")
          .append(Numbers.brief(v.mean())).append("</td><td class=\"num\">").append(Numbers.brief(v.max()))
          .append("</td>");
    } else {
      s.append("<td colspan=\"3\" class=\"muted\">not learned (counts as ").append(name.equals("gamma") ? "1" : "0")
          .append(")</td>");
    }
    s.append("</tr>\n");
  }

  private static void findings(Report report, StringBuilder s) {
    s.append("<h2 id=\"findings\">Findings</h2>\n");
    if (report.findings().isEmpty()) {
      s.append("<p>No findings.</p>\n");
      return;
    }
    s.append("<p>").append(Html.text(ReportText.counts(report))).append("</p>\n");
    for (Finding f : report.findings()) {
      // only an analysed layer has a section to link to; an unresolved layer or the model has none
      finding(f, true, report.subjectOf(f) == Subject.LAYER, s);
    }
  }

  private static void finding(Finding f, boolean withLayer, boolean linked, StringBuilder s) {
    String severity = f.severity().label();
    s.append("<div class=\"finding ").append(severity).append(f.suppressed().isPresent() ? " suppressed" : "")
        .append("\">\n<p><span class=\"badge ").append(severity).append("\">").append(Html.text(f.code())).append(' ')
        .append(severity).append("</span> ");
    if (withLayer && linked) {
      s.append("<a href=\"#layer-").append(f.layerIndex()).append("\"><code>").append(Html.text(f.layer()))
          .append("</code></a>: ");
    } else if (withLayer) {
      s.append("<code>").append(Html.text(f.layer())).append("</code>: ");
    }
    s.append(Html.text(f.message()));
    f.suppressed().ifPresent(suppressed -> s.append(" <span class=\"badge suppressed\">suppressed</span> <em>")
        .append(Html.text(suppressed.reason())).append("</em>"));
    s.append("</p>\n");
    if (!f.evidence().isEmpty()) {
      s.append("<p>evidence: ").append(String.join(", ",
          f.evidence().stream().map(e -> "<code>" + Html.text(ReportText.evidence(e)) + "</code>").toList()))
          .append("</p>\n");
    }
    s.append("<p>fix: ").append(Html.text(f.fix())).append("</p>\n");
    if (FindingDocs.of(f.code()).isPresent()) {
      s.append("<p class=\"muted\"><a href=\"#").append(anchor(f.code())).append("\">what ").append(Html.text(f.code()))
          .append(" means</a>: cause, evidence and fix</p>\n");
    }
    s.append("</div>\n");
  }

  /** The same anchor as the code's section of docs/findings.md. */
  private static String anchor(String code) {
    return Html.text(code.toLowerCase(Locale.ROOT));
  }

  /**
   * The explanation of every code the report has a finding of, from docs/findings.md: the page is
   * read where the documentation is not at hand (a CI artifact), and a relative link would be dead.
   */
  private static void explanations(Report report, StringBuilder s) {
    List<FindingDocs.Section> sections = report.findings().stream().map(Finding::code).distinct().sorted()
        .map(FindingDocs::of).flatMap(Optional::stream).toList();
    if (sections.isEmpty()) {
      return;
    }
    s.append("<h2 id=\"explanations\">What the findings mean</h2>\n<p class=\"muted\">From docs/findings.md of bncheck ")
        .append(Html.text(report.run().toolVersion())).append(".</p>\n");
    for (FindingDocs.Section section : sections) {
      s.append("<section class=\"explanation\" id=\"").append(anchor(section.code())).append("\">\n<h3>")
          .append(Html.text(section.code())).append(' ').append(Html.text(section.title())).append("</h3>\n")
          .append(MarkdownHtml.html(section.markdown())).append("</section>\n");
    }
  }

  private static void skipped(Report report, StringBuilder s) {
    var lines = ReportText.Skipped.of(report);
    if (lines.isEmpty()) {
      return;
    }
    s.append("<h2 id=\"skipped\">Skipped checks</h2>\n<ul>\n");
    for (ReportText.Skipped line : lines) {
      s.append("<li>").append(Html.text(line.checks())).append(": ")
          .append(line.allOf(report) ? "all " + line.layers().size() + " layers"
              : String.join(", ", line.layers().stream().map(n -> "<code>" + Html.text(n) + "</code>").toList()))
          .append("</li>\n");
    }
    s.append("</ul>\n");
  }
}
