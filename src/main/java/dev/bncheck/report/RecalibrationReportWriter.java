package dev.bncheck.report;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.model.Numbers;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Writes a {@link RecalibrationReport} as text (a column-aligned table and what followed), JSON
 * (docs/report-format.md, "recalibrate") or Markdown. Numbers as in the check reports: four
 * significant digits in text and Markdown, seven in JSON.
 */
public final class RecalibrationReportWriter {

  /** The formats a recalibration report has; JUnit and HTML are check's. */
  public static final List<ReportFormat> FORMATS = List.of(ReportFormat.TEXT, ReportFormat.JSON, ReportFormat.MARKDOWN);

  static final String FORMAT = "bncheck-recalibration";
  static final int VERSION = 1;

  private static final List<String> HEADER = List.of("LAYER", "VALUES", "BEFORE: MEAN SHIFT", "VAR RATIO", "MODE RMS",
      "AFTER: MEAN SHIFT", "VAR RATIO", "MODE RMS");

  private RecalibrationReportWriter() {}

  public static void write(RecalibrationReport report, ReportFormat format, String toolVersion, Writer out)
      throws IOException {
    switch (format) {
      case TEXT -> text(report, out);
      case JSON -> json(report, toolVersion, out);
      case MARKDOWN -> markdown(report, out);
      default -> throw new IllegalArgumentException("a recalibration report has no " + format.label() + " format");
    }
    out.flush();
  }

  private static void text(RecalibrationReport r, Writer out) throws IOException {
    out.write(summary(r) + "\n\n");
    if (!r.rows().isEmpty()) {
      table(r, out);
    }
    for (String line : closing(r)) {
      out.write(line + "\n");
    }
  }

  private static void table(RecalibrationReport r, Writer out) throws IOException {
    List<List<String>> table = new ArrayList<>();
    table.add(HEADER);
    for (RecalibrationReport.Row row : r.rows()) {
      table.add(cells(row));
    }
    int[] width = new int[HEADER.size()];
    for (List<String> line : table) {
      for (int c = 0; c < width.length; c++) {
        width[c] = Math.max(width[c], line.get(c).length());
      }
    }
    for (List<String> line : table) {
      StringBuilder s = new StringBuilder();
      for (int c = 0; c < width.length; c++) {
        String cell = line.get(c);
        String pad = " ".repeat(width[c] - cell.length());
        s.append(c == 0 ? "" : "  ").append(c == 0 ? cell + pad : pad + cell);
      }
      out.write(s.toString().stripTrailing() + "\n");
    }
    out.write("\n");
  }

  private static void markdown(RecalibrationReport r, Writer out) throws IOException {
    out.write("# bncheck recalibrate: " + Markdown.code(r.model()) + "\n\n" + Markdown.text(summary(r)) + "\n\n");
    if (!r.rows().isEmpty()) {
      out.write("| layer | values | before: mean shift | var ratio | mode RMS | after: mean shift | var ratio | mode RMS"
          + " |\n|---|--:|--:|--:|--:|--:|--:|--:|\n");
      for (RecalibrationReport.Row row : r.rows()) {
        List<String> cells = cells(row);
        out.write("| " + Markdown.codeCell(cells.get(0)) + " | " + String.join(" | ", cells.subList(1, cells.size()))
            + " |\n");
      }
      out.write("\n");
    }
    for (String line : closing(r)) {
      out.write("- " + Markdown.text(line) + "\n");
    }
  }

  private static String summary(RecalibrationReport r) {
    long layers = r.rows().size();
    if (layers == 0) {
      return "Nothing recalibrated in " + r.model() + ": refused before any statistics were computed.";
    }
    if (r.dump()) {
      return String.format(Locale.ROOT, "Recalibrated %d of %d BN layers of %s on the activations it holds for each"
          + " layer, verified on the held-out samples of each (a dump cannot be rerun in network order).",
          r.recalibrated(), layers, r.model());
    }
    return String.format(Locale.ROOT, "Recalibrated %d of %d BN layers of %s on %d samples; %s.", r.recalibrated(),
        layers, r.model(), r.calibrationSamples(), r.heldOutSamples() == 0
            ? "verified on the same samples (--held-out 0)" : "verified on " + r.heldOutSamples() + " held-out samples");
  }

  private static List<String> cells(RecalibrationReport.Row row) {
    List<String> cells = new ArrayList<>(List.of(row.layer(), row.values() == 0 ? "(kept)" : String.valueOf(row.values())));
    for (Optional<DivergenceMetrics> m : List.of(row.before(), row.after())) {
      cells.add(m.map(d -> Numbers.brief(d.worstMeanShift().value())).orElse("-"));
      cells.add(m.map(d -> Numbers.brief(d.worstVarianceRatio().value())).orElse("-"));
      cells.add(m.map(d -> Numbers.brief(d.layerModeRelativeRms())).orElse("-"));
    }
    return cells;
  }

  /** What follows the table: the fixed model's checks, then what was written or why not. */
  private static List<String> closing(RecalibrationReport r) {
    List<String> lines = new ArrayList<>();
    for (RecalibrationReport.Consistency c : r.consistency()) {
      lines.add("Output " + c.output() + " of the fixed model: " + c.samplesCompared() + " samples alone vs in a batch"
          + " of " + c.batchSize() + " differ by at most " + Numbers.brief(c.maxAbsDifference())
          + (c.consistent() ? " (consistent)" : " (BN005: depends on the batch)"));
    }
    r.predictions().ifPresent(p -> lines.add("Held-out predictions (no --labels, so no accuracy): " + p.before() + " of "
        + p.classes() + " classes predicted before, " + p.after() + " after."));
    r.accuracy().ifPresent(a -> lines.add("Held-out accuracy at batch size 64: " + percent(a.before64()) + " before, "
        + percent(a.after64()) + " after; at batch size 1: " + percent(a.before1()) + " before, " + percent(a.after1())
        + " after."));
    for (String reason : r.refusals()) {
      lines.add((r.written() ? "Written although " : "Refused: ") + reason + (r.written() ? " (--force)." : "."));
    }
    for (String layer : r.switchedToInferenceMode()) {
      lines.add("Layer " + layer + " normalized with batch statistics (BN002); it is switched to inference mode and"
          + " uses the new statistics (--to-inference-mode).");
    }
    if (!r.written()) {
      lines.add("Nothing written (--force writes anyway).");
    } else {
      boolean switched = !r.switchedToInferenceMode().isEmpty();
      lines.add("Wrote " + r.out() + (switched ? " (the moving statistics changed and the layers above switched to"
          + " inference mode; " : " (only the moving statistics changed; ") + "the variance stored is the unbiased one).");
    }
    return lines;
  }

  private static String percent(double fraction) {
    return Numbers.format(100 * fraction, 4) + "%";
  }

  private static void json(RecalibrationReport r, String toolVersion, Writer out) throws IOException {
    try (JsonGenerator g = JsonReportWriter.generator(out)) {
      g.writeStartObject();
      g.writeStringField("report_format", FORMAT);
      g.writeNumberField("report_version", VERSION);
      g.writeStringField("bncheck_version", toolVersion);
      g.writeStringField("command", "recalibrate");
      g.writeStringField("model", r.model());
      g.writeStringField("outcome", r.outcome());
      g.writeObjectFieldStart("data");
      g.writeStringField("source", r.dump() ? "dump activations" : "inputs");
      if (r.dump()) {
        // each layer of a dump holds its own samples, split on its own
        g.writeNullField("calibration_samples");
        g.writeNullField("held_out_samples");
      } else {
        g.writeNumberField("calibration_samples", r.calibrationSamples());
        g.writeNumberField("held_out_samples", r.heldOutSamples());
      }
      g.writeEndObject();
      g.writeArrayFieldStart("layers");
      for (RecalibrationReport.Row row : r.rows()) {
        g.writeStartObject();
        g.writeStringField("name", row.layer());
        g.writeBooleanField("recalibrated", row.values() > 0);
        g.writeNumberField("values", row.values());
        metrics(g, "before", row.before());
        metrics(g, "after", row.after());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeArrayFieldStart("batch_size_checks");
      for (RecalibrationReport.Consistency c : r.consistency()) {
        g.writeStartObject();
        g.writeStringField("output", c.output());
        g.writeNumberField("samples_compared", c.samplesCompared());
        g.writeNumberField("batch_size", c.batchSize());
        JsonReportWriter.number(g, "max_abs_difference", c.maxAbsDifference());
        g.writeBooleanField("consistent", c.consistent());
        g.writeEndObject();
      }
      g.writeEndArray();
      if (r.accuracy().isPresent()) {
        RecalibrationReport.Accuracy a = r.accuracy().get();
        g.writeObjectFieldStart("accuracy");
        JsonReportWriter.number(g, "before_batch_64", a.before64());
        JsonReportWriter.number(g, "after_batch_64", a.after64());
        JsonReportWriter.number(g, "before_batch_1", a.before1());
        JsonReportWriter.number(g, "after_batch_1", a.after1());
        g.writeEndObject();
      }
      if (r.predictions().isPresent()) {
        RecalibrationReport.PredictedClasses p = r.predictions().get();
        g.writeObjectFieldStart("predicted_classes");
        g.writeNumberField("classes", p.classes());
        g.writeNumberField("before", p.before());
        g.writeNumberField("after", p.after());
        g.writeEndObject();
      }
      g.writeArrayFieldStart("refusals");
      for (String reason : r.refusals()) {
        g.writeString(reason);
      }
      g.writeEndArray();
      g.writeArrayFieldStart("switched_to_inference_mode");
      for (String layer : r.switchedToInferenceMode()) {
        g.writeString(layer);
      }
      g.writeEndArray();
      if (r.written()) {
        g.writeStringField("out", r.out());
      } else {
        g.writeNullField("out");
      }
      g.writeEndObject();
    }
    out.write("\n");
  }

  private static void metrics(JsonGenerator g, String name, Optional<DivergenceMetrics> m) throws IOException {
    if (m.isEmpty()) {
      g.writeNullField(name);
      return;
    }
    g.writeObjectFieldStart(name);
    JsonReportWriter.number(g, "worst_standardized_mean_shift", m.get().worstMeanShift().value());
    JsonReportWriter.number(g, "worst_variance_ratio", m.get().worstVarianceRatio().value());
    JsonReportWriter.number(g, "mode_relative_rms", m.get().layerModeRelativeRms());
    g.writeEndObject();
  }
}
