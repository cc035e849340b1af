package dev.bncheck.report;

import dev.bncheck.analysis.CheckOutcome;
import dev.bncheck.analysis.Evidence;
import dev.bncheck.analysis.Finding;
import dev.bncheck.analysis.LayerResult;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.Severity;
import dev.bncheck.engine.SelfCheck;
import dev.bncheck.model.Numbers;
import dev.bncheck.model.Precision;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** Wording the text, Markdown and JUnit reports share, so that they say the same thing the same way. */
final class ReportText {

  private ReportText() {}

  /**
   * The findings that count towards the verdict, for example {@code 6 errors, 0 warnings, 0 info},
   * then the {@link #suppressed} ones.
   */
  static String counts(Report report) {
    List<Finding> counted = report.findings().stream().filter(f -> f.suppressed().isEmpty()).toList();
    String counts = count(counted, Severity.ERROR, " error") + ", " + count(counted, Severity.WARNING, " warning") + ", "
        + count(counted, Severity.INFO, " info");
    return counts + suppressed(report).map(s -> "; " + s).orElse("");
  }

  /**
   * The suppressed findings by where their suppression comes from, for example {@code 6 errors
   * suppressed by the baseline}: a run that passes with errors in it says why they did not fail it.
   */
  static Optional<String> suppressed(Report report) {
    List<String> suppressed = new ArrayList<>();
    for (Finding.By by : Finding.By.values()) {
      List<Finding> these = report.findings().stream()
          .filter(f -> f.suppressed().map(Finding.Suppressed::by).orElse(null) == by).toList();
      List<String> bySeverity = new ArrayList<>();
      for (Severity severity : List.of(Severity.ERROR, Severity.WARNING, Severity.INFO)) {
        if (these.stream().anyMatch(f -> f.severity() == severity)) {
          bySeverity.add(count(these, severity, " " + severity.label()));
        }
      }
      if (!bySeverity.isEmpty()) {
        suppressed.add(String.join(", ", bySeverity) + " suppressed by " + by.label());
      }
    }
    return suppressed.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", suppressed));
  }

  private static String count(List<Finding> findings, Severity severity, String noun) {
    long n = findings.stream().filter(f -> f.severity() == severity).count();
    return n + noun + (severity == Severity.INFO ? "" : plural(n));
  }

  /**
   * How bncheck's output of a layer compared with the runtime's; a half model's output is named
   * as such, since its round-off is half's.
   */
  static String selfCheck(String runtime, SelfCheck check) {
    return "matches " + runtime + "'s " + (check.trainingMode() ? "training" : "inference") + "-mode output within "
        + Numbers.brief(check.maxAbsDifference())
        + (check.precision() == Precision.FLOAT32 ? "" : " (its " + check.precision().label() + " output)");
  }

  /**
   * What a report says of a model without BN layers. An ONNX export has often folded them into
   * its convolutions (the dynamo exporter does by default): it says how to keep them.
   */
  static String noLayers(Report report) {
    return "No batch-normalization layers found."
        + (report.model().format().startsWith("ONNX") ? " An ONNX exporter may have folded them into the"
            + " convolutions: torch.onnx.export with dynamo=False and do_constant_folding=False, or dynamo=True and"
            + " optimize=False, keeps them (docs/onnx.md)." : "");
  }

  static String plural(long n) {
    return n == 1 ? "" : "s";
  }

  /**
   * A layer's mode relative RMS as people read it: infinite only when training mode outputs exactly
   * beta everywhere, which BN004 explains as a constant input, and so does the column.
   */
  static String modeRms(double relativeRms) {
    return relativeRms == Double.POSITIVE_INFINITY ? "constant input" : Numbers.brief(relativeRms);
  }

  static String status(LayerResult result) {
    return result.status().map(Severity::label).orElse("ok");
  }

  /** All of a finding's evidence on one line: {@code name=value, name=value}. */
  static String evidence(Finding finding) {
    return finding.evidence().stream().map(ReportText::evidence).collect(Collectors.joining(", "));
  }

  static String evidence(Evidence e) {
    return e.name() + "=" + evidenceValue(e.value());
  }

  private static String evidenceValue(Object value) {
    if (value instanceof Double d) {
      return Numbers.brief(d);
    }
    if (value instanceof List<?> list) {
      return list.stream().map(ReportText::evidenceValue).collect(Collectors.joining(",", "[", "]"));
    }
    return value.toString();
  }

  /**
   * Skipped checks grouped by codes and reason, so that a common reason takes one line.
   *
   * @param checks the codes and the reason, e.g. {@code BN003, BN004 (no calibration data for this layer)}
   * @param layers the layers they were skipped on, in network order
   */
  record Skipped(String checks, List<String> layers) {

    static List<Skipped> of(Report report) {
      Map<String, List<String>> layersBySkip = new LinkedHashMap<>();
      for (LayerResult r : report.layers()) {
        Map<String, List<String>> codesByReason = new LinkedHashMap<>();
        for (CheckOutcome c : r.checks()) {
          if (c.status() == CheckOutcome.Status.SKIPPED) {
            codesByReason.computeIfAbsent(c.reason(), k -> new ArrayList<>()).add(c.code());
          }
        }
        codesByReason.forEach((reason, codes) ->
            layersBySkip.computeIfAbsent(String.join(", ", codes) + " (" + reason + ")", k -> new ArrayList<>())
                .add(r.layer().name()));
      }
      List<Skipped> lines = new ArrayList<>();
      layersBySkip.forEach((checks, layers) -> lines.add(new Skipped(checks, layers)));
      return lines;
    }

    /** Whether the line covers every layer of a model with several, which then need not be named. */
    boolean allOf(Report report) {
      return layers.size() == report.layers().size() && layers.size() > 1;
    }
  }
}
