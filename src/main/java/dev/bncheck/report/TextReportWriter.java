package dev.bncheck.report;

import dev.bncheck.analysis.Finding;
import dev.bncheck.analysis.LayerResult;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.engine.VectorSummary;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.UnresolvedLayer;
import dev.bncheck.model.Numbers;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The report for people: a layer table, then the findings with evidence and fix. */
public final class TextReportWriter implements ReportWriter {

  private static final String RESET = "\u001b[0m";
  private static final String BOLD = "\u001b[1m";
  private static final String RED = "\u001b[31m";
  private static final String YELLOW = "\u001b[33m";
  private static final String CYAN = "\u001b[36m";
  private static final String GREEN = "\u001b[32m";

  private final boolean colour;

  public TextReportWriter(boolean colour) {
    this.colour = colour;
  }

  @Override
  public void write(Report report, Writer out) throws IOException {
    StringBuilder s = new StringBuilder();
    header(report, s);
    layerTable(report, s);
    unresolved(report, s);
    batchSizeChecks(report, s);
    findings(report, s);
    skipped(report, s);
    thresholds(report.thresholds(), s);
    verdict(report, s);
    out.write(s.toString());
  }

  private void header(Report report, StringBuilder s) {
    var model = report.model();
    s.append(paint(BOLD, "bncheck " + report.run().toolVersion() + " " + report.run().command()))
        .append(": ").append(shown(model.location())).append('\n');
    s.append("  model: ").append(shown(model.format()));
    if (model.framework() != null) {
      s.append(", framework ").append(shown(model.framework()));
    }
    if (model.modelName() != null) {
      s.append(", name ").append(shown(model.modelName()));
    }
    s.append(", ").append(model.layers().size()).append(model.layers().size() == 1 ? " BN layer" : " BN layers");
    s.append(", sha256 ").append(report.run().modelSha256()).append('\n');
    s.append("  data: ").append(shown(report.run().data()));
    if (report.run().dataSha256() != null) {
      s.append(", sha256 ").append(report.run().dataSha256());
    }
    report.firstData().ifPresent(c -> s.append(", ").append(c.samplesText()));
    if (!report.run().batches().isEmpty()) {
      s.append("\n  batches: ").append(report.run().batches());
    }
    if (!report.run().relaxed().isEmpty()) {
      s.append("\n  safety checks relaxed: ").append(shown(String.join(" ", report.run().relaxed())));
    }
    s.append("\n\n");
  }

  private void layerTable(Report report, StringBuilder s) {
    if (report.layers().isEmpty()) {
      s.append(report.model().unresolved().isEmpty() ? ReportText.noLayers(report) + "\n\n" : "");
      return;
    }
    boolean withMetrics = report.layers().stream().anyMatch(r -> r.metrics().isPresent());
    List<String[]> rows = new ArrayList<>();
    rows.add(columns(withMetrics, "#", "LAYER", "CH", "EPSILON", "MOMENTUM", "STATUS", "MEAN SHIFT", "VAR RATIO", "MODE RMS"));
    for (LayerResult r : report.layers()) {
      BnLayer layer = r.layer();
      String momentum = layer.momentum().isPresent()
          ? Numbers.brief(layer.momentum().getAsDouble()) + " " + layer.momentumConvention().jsonName()
          : "-";
      String shift = r.metrics().map(m -> Numbers.brief(m.worstMeanShift().value())).orElse("-");
      String ratio = r.metrics().map(m -> Numbers.brief(m.worstVarianceRatio().value())).orElse("-");
      String rms = r.metrics().map(m -> ReportText.modeRms(m.layerModeRelativeRms())).orElse("-");
      rows.add(columns(withMetrics,
          String.valueOf(r.index()), shown(layer.name()), String.valueOf(layer.channels()), Numbers.brief(layer.epsilon()),
          momentum, ReportText.status(r), shift, ratio, rms));
    }
    int[] width = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        width[i] = Math.max(width[i], row[i].length());
      }
    }
    for (int r = 0; r < rows.size(); r++) {
      String[] row = rows.get(r);
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        String cell = pad(row[i], width[i], i == 0 || i == 2 || i >= 6);
        line.append(i == 0 ? "" : "  ").append(i == 5 && r > 0 ? paintStatus(row[i], cell) : cell);
      }
      s.append(r == 0 ? paint(BOLD, line.toString().stripTrailing()) : line.toString().stripTrailing()).append('\n');
      if (r > 0) {
        LayerResult result = report.layers().get(r - 1);
        s.append("    ").append(parameters(result)).append('\n');
        result.calibration().ifPresent(c -> s.append("    calibration: ").append(c.batches())
            .append(c.batches() == 1 ? " batch, " : " batches, ").append(c.samplesText()).append(", ")
            .append(c.valuesPerChannel())
            .append(" values per channel, first batch ").append(Arrays.toString(c.firstBatchShape()))
            .append(c.selfCheck().map(check -> "; " + ReportText.selfCheck(report.run().runtime(), check)).orElse(""))
            .append('\n'));
        result.trainingViewMetrics().ifPresent(m -> s.append("    training view (every BN layer in training mode): mean shift ")
            .append(Numbers.brief(m.worstMeanShift().value())).append(", var ratio ")
            .append(Numbers.brief(m.worstVarianceRatio().value())).append('\n'));
      }
    }
    s.append("  gamma, beta, moving_mean, moving_variance: min/mean/max over channels\n");
    if (withMetrics) {
      s.append("  MEAN SHIFT: worst (moving_mean - data mean) / sqrt(data var + eps);"
        + " VAR RATIO: worst (moving_var + eps) / (data var + eps);"
        + " MODE RMS: |y_train - y_inference| / |y_train - beta|\n");
    }
    s.append('\n');
  }

  private static void batchSizeChecks(Report report, StringBuilder s) {
    for (var c : report.batchSizeChecks()) {
      s.append("Output ").append(shown(c.output())).append(": ").append(c.samplesCompared())
          .append(" samples run alone vs in a batch of ").append(c.batchSize()).append(" differ by at most ")
          .append(Numbers.brief(c.maxAbsDifference())).append(" (").append(c.consistent() ? "consistent" : "BN005")
          .append(")\n");
    }
    if (!report.batchSizeChecks().isEmpty()) {
      s.append('\n');
    }
  }

  private static void unresolved(Report report, StringBuilder s) {
    if (report.model().unresolved().isEmpty()) {
      return;
    }
    s.append("BN layers not analysed (their parameters could not be read, or they keep no running statistics):\n");
    for (UnresolvedLayer u : report.model().unresolved()) {
      s.append("  ").append(shown(u.name())).append(" at ").append(shown(u.node())).append(": ").append(shown(u.reason()))
          .append(u.trainingMode() ? " [training mode]" : "").append('\n');
    }
    s.append('\n');
  }

  /** The row's cells, without the metric columns when no layer has calibration data. */
  private static String[] columns(boolean withMetrics, String... cells) {
    return withMetrics ? cells : Arrays.copyOf(cells, 6);
  }

  private static String parameters(LayerResult r) {
    return "gamma " + summary(r.gamma(), r.layer().hasGamma()) + "  beta " + summary(r.beta(), r.layer().hasBeta())
        + "  moving_mean " + summary(r.movingMean(), true) + "  moving_variance " + summary(r.movingVariance(), true);
  }

  private static String summary(VectorSummary v, boolean present) {
    if (!present) {
      return "(none)";
    }
    return Numbers.brief(v.min()) + "/" + Numbers.brief(v.mean()) + "/" + Numbers.brief(v.max());
  }

  private void findings(Report report, StringBuilder s) {
    if (report.findings().isEmpty()) {
      s.append(paint(GREEN, "No findings.")).append("\n\n");
      return;
    }
    s.append(paint(BOLD, "Findings")).append(" (").append(ReportText.counts(report)).append("):\n\n");
    for (Finding f : report.findings()) {
      s.append(paintStatus(f.severity().label(), "[" + f.code() + "] " + f.severity().label()))
          .append(' ').append(shown(f.layer())).append(": ").append(shown(f.message()))
          .append(" (see ").append(f.docsLink()).append(")")
          .append(f.suppressed().map(r -> " [suppressed: " + shown(r.reason()) + "]").orElse("")).append('\n');
      s.append("    evidence: ").append(shown(ReportText.evidence(f))).append('\n');
      s.append("    fix: ").append(shown(f.fix())).append("\n\n");
    }
  }

  private static void skipped(Report report, StringBuilder s) {
    List<ReportText.Skipped> lines = ReportText.Skipped.of(report);
    if (lines.isEmpty()) {
      return;
    }
    s.append("Skipped checks:\n");
    for (ReportText.Skipped line : lines) {
      s.append("  ").append(shown(line.checks())).append(": ")
          .append(line.allOf(report) ? "all " + line.layers().size() + " layers" : shown(String.join(", ", line.layers())))
          .append('\n');
    }
    s.append('\n');
  }

  private static void thresholds(Thresholds t, StringBuilder s) {
    s.append("Thresholds: mean shift ").append(Numbers.brief(t.meanShiftWarning())).append(" warning / ")
        .append(Numbers.brief(t.meanShiftError())).append(" error; variance ratio ")
        .append(Numbers.brief(t.varianceRatioWarning())).append(" warning / ")
        .append(Numbers.brief(t.varianceRatioError())).append(" error; mode RMS ")
        .append(Numbers.brief(t.modeRmsError())).append(" error; dead channel below ")
        .append(Numbers.brief(t.deadEpsilonFactor())).append(" x epsilon or ")
        .append(Numbers.brief(t.deadMedianFactor())).append(" x median variance\n");
  }

  private void verdict(Report report, StringBuilder s) {
    String failOn = report.run().failOn().label();
    if (report.lacksRequiredBn()) {
      s.append(paint(RED + BOLD, "FAIL")).append(": no batch-normalization layers found, and --require-bn was given\n");
    } else if (report.failed()) {
      s.append(paint(RED + BOLD, "FAIL")).append(": ").append(report.failingCount())
          .append(report.failingCount() == 1 ? " finding" : " findings").append(" at or above --fail-on ")
          .append(failOn).append(ReportText.suppressed(report).map(suppressed -> "; " + suppressed).orElse(""))
          .append('\n');
    } else {
      s.append(paint(GREEN + BOLD, "PASS")).append(": no findings at or above --fail-on ").append(failOn)
          .append(" (").append(ReportText.counts(report)).append(")")
          .append(report.dataChecksSkipped().map(reason -> "; the data checks did not run: " + reason).orElse(""))
          .append('\n');
    }
  }

  /** Model-supplied text, with the characters that would act on a terminal made visible. */
  private static String shown(String text) {
    return ControlCharacters.escape(text);
  }

  private static String pad(String text, int width, boolean right) {
    String spaces = " ".repeat(width - text.length());
    return right ? spaces + text : text + spaces;
  }

  private String paintStatus(String status, String text) {
    return switch (status) {
      case "error" -> paint(RED, text);
      case "warning" -> paint(YELLOW, text);
      case "info" -> paint(CYAN, text);
      default -> paint(GREEN, text);
    };
  }

  private String paint(String code, String text) {
    return colour ? code + text + RESET : text;
  }
}
