package dev.bncheck.report;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import dev.bncheck.analysis.CheckOutcome;
import dev.bncheck.analysis.Evidence;
import dev.bncheck.analysis.Finding;
import dev.bncheck.analysis.LayerResult;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.Severity;
import dev.bncheck.analysis.Subject;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.engine.ChannelExtreme;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.VectorSummary;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.UnresolvedLayer;
import dev.bncheck.model.Numbers;
import java.io.IOException;
import java.io.Writer;
import java.util.List;
import java.util.Locale;

/**
 * The machine-readable report (docs/report-format.md): fixed key order, numbers rounded to seven
 * significant digits, non-finite numbers as the strings NaN, Infinity and -Infinity.
 */
public final class JsonReportWriter implements ReportWriter {

  public static final String FORMAT = "bncheck-report";
  public static final int VERSION = 1;
  private static final int DIGITS = 7;

  private static final JsonFactory FACTORY = JsonFactory.builder().build();

  @Override
  public void write(Report report, Writer out) throws IOException {
    try (JsonGenerator g = generator(out)) {
      g.writeStartObject();
      g.writeStringField("report_format", FORMAT);
      g.writeNumberField("report_version", VERSION);
      g.writeStringField("bncheck_version", report.run().toolVersion());
      g.writeStringField("command", report.run().command());
      g.writeStringField("verdict", report.failed() ? "fail" : "pass");
      g.writeStringField("fail_on", report.run().failOn().label());
      g.writeBooleanField("require_bn", report.run().requireBn());
      g.writeArrayFieldStart("relaxed");
      for (String relaxed : report.run().relaxed()) {
        g.writeString(relaxed);
      }
      g.writeEndArray();
      g.writeObjectFieldStart("counts");
      for (Severity s : List.of(Severity.ERROR, Severity.WARNING, Severity.INFO)) {
        g.writeNumberField(s.label(), report.count(s));
      }
      g.writeNumberField("suppressed", report.suppressedCount());
      g.writeObjectFieldStart("suppressed_by");
      for (Finding.By by : Finding.By.values()) {
        g.writeNumberField(by.name().toLowerCase(Locale.ROOT), report.findings().stream()
            .filter(f -> f.suppressed().map(Finding.Suppressed::by).orElse(null) == by).count());
      }
      g.writeEndObject();
      g.writeEndObject();
      writeModel(g, report);
      writeThresholds(g, report.thresholds());
      g.writeArrayFieldStart("layers");
      for (LayerResult layer : report.layers()) {
        writeLayer(g, layer);
      }
      g.writeEndArray();
      g.writeArrayFieldStart("unresolved_layers");
      for (UnresolvedLayer u : report.model().unresolved()) {
        g.writeStartObject();
        g.writeStringField("name", u.name());
        g.writeStringField("node", u.node());
        g.writeStringField("reason", u.reason());
        g.writeBooleanField("training_mode", u.trainingMode());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeArrayFieldStart("batch_size_checks");
      for (var c : report.batchSizeChecks()) {
        g.writeStartObject();
        g.writeStringField("output", c.output());
        g.writeNumberField("batch_size", c.batchSize());
        g.writeNumberField("samples_compared", c.samplesCompared());
        number(g, "max_abs_difference", c.maxAbsDifference());
        number(g, "relative_difference", c.relativeDifference());
        g.writeBooleanField("consistent", c.consistent());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeArrayFieldStart("findings");
      for (Finding f : report.findings()) {
        writeFinding(g, f, report.subjectOf(f));
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    out.write('\n');
  }

  private static void writeModel(JsonGenerator g, Report report) throws IOException {
    g.writeObjectFieldStart("model");
    g.writeStringField("location", report.model().location());
    g.writeStringField("format", report.model().format());
    g.writeStringField("framework", report.model().framework());
    g.writeStringField("name", report.model().modelName());
    g.writeStringField("sha256", report.run().modelSha256());
    g.writeNumberField("bn_layers", report.layers().size() + report.model().unresolved().size());
    g.writeEndObject();
    g.writeObjectFieldStart("data");
    g.writeStringField("source", report.run().data());
    g.writeStringField("sha256", report.run().dataSha256());
    if (!report.run().batches().isEmpty()) {
      g.writeStringField("batches", report.run().batches());
    }
    var firstData = report.firstData();
    if (firstData.isPresent()) {
      g.writeNumberField("samples", firstData.get().samples());
      g.writeNumberField("distinct_samples", firstData.get().distinctSamples());
    } else {
      g.writeNullField("samples");
      g.writeNullField("distinct_samples");
    }
    g.writeStringField("data_checks_skipped", report.dataChecksSkipped().orElse(null));
    g.writeEndObject();
  }

  private static void writeThresholds(JsonGenerator g, Thresholds t) throws IOException {
    g.writeObjectFieldStart("thresholds");
    number(g, "mean_shift_warning", t.meanShiftWarning());
    number(g, "mean_shift_error", t.meanShiftError());
    number(g, "variance_ratio_warning", t.varianceRatioWarning());
    number(g, "variance_ratio_error", t.varianceRatioError());
    number(g, "mode_rms_error", t.modeRmsError());
    number(g, "dead_epsilon_factor", t.deadEpsilonFactor());
    number(g, "dead_median_factor", t.deadMedianFactor());
    g.writeEndObject();
  }

  private static void writeLayer(JsonGenerator g, LayerResult result) throws IOException {
    BnLayer layer = result.layer();
    g.writeStartObject();
    g.writeNumberField("index", result.index());
    g.writeStringField("name", layer.name());
    g.writeStringField("origin", layer.origin());
    g.writeStringField("status", result.status().map(Severity::label).orElse("ok"));
    g.writeNumberField("channels", layer.channels());
    g.writeNumberField("channel_axis", layer.channelAxis());
    number(g, "epsilon", layer.epsilon());
    if (layer.momentum().isPresent()) {
      number(g, "momentum", layer.momentum().getAsDouble());
      g.writeStringField("momentum_convention", layer.momentumConvention().jsonName());
    } else {
      g.writeNullField("momentum");
      g.writeNullField("momentum_convention");
    }
    if (layer.numBatchesTracked().isPresent()) {
      g.writeNumberField("num_batches_tracked", layer.numBatchesTracked().getAsLong());
    } else {
      g.writeNullField("num_batches_tracked");
    }
    g.writeObjectFieldStart("parameters");
    summary(g, "gamma", result.gamma(), layer.hasGamma());
    summary(g, "beta", result.beta(), layer.hasBeta());
    summary(g, "moving_mean", result.movingMean(), true);
    summary(g, "moving_variance", result.movingVariance(), true);
    g.writeEndObject();
    if (result.calibration().isPresent()) {
      var c = result.calibration().get();
      g.writeObjectFieldStart("calibration");
      g.writeNumberField("batches", c.batches());
      g.writeNumberField("samples", c.samples());
      g.writeNumberField("distinct_samples", c.distinctSamples());
      g.writeNumberField("values_per_channel", c.valuesPerChannel());
      g.writeFieldName("first_batch_shape");
      g.writeArray(c.firstBatchShape(), 0, c.firstBatchShape().length);
      g.writeNumberField("non_finite_values", c.nonFiniteValues());
      if (c.selfCheck().isPresent()) {
        var check = c.selfCheck().get();
        g.writeObjectFieldStart("self_check");
        g.writeStringField("mode", check.trainingMode() ? "training" : "inference");
        number(g, "max_abs_difference", check.maxAbsDifference());
        number(g, "relative_difference", check.relativeDifference());
        g.writeBooleanField("passed", check.passed());
        g.writeEndObject();
      } else {
        g.writeNullField("self_check");
      }
      g.writeEndObject();
    } else {
      g.writeNullField("calibration");
    }
    if (layer.graph().isPresent()) {
      g.writeObjectFieldStart("graph");
      g.writeStringField("op", layer.graph().get().op());
      g.writeFieldName("nodes");
      g.writeStartArray();
      for (String node : layer.graph().get().nodes()) {
        g.writeString(node);
      }
      g.writeEndArray();
      g.writeBooleanField("training_mode", layer.graph().get().trainingMode());
      g.writeEndObject();
    } else {
      g.writeNullField("graph");
    }
    if (result.metrics().isPresent()) {
      writeMetrics(g, "metrics", result.metrics().get());
    } else {
      g.writeNullField("metrics");
    }
    if (result.trainingViewMetrics().isPresent()) {
      writeMetrics(g, "training_view_metrics", result.trainingViewMetrics().get());
    } else {
      g.writeNullField("training_view_metrics");
    }
    g.writeArrayFieldStart("checks");
    for (CheckOutcome outcome : result.checks()) {
      g.writeStartObject();
      g.writeStringField("code", outcome.code());
      g.writeStringField("status", outcome.status().label());
      if (outcome.status() == CheckOutcome.Status.SKIPPED) {
        g.writeStringField("reason", outcome.reason());
      }
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static void writeMetrics(JsonGenerator g, String field, DivergenceMetrics m) throws IOException {
    g.writeObjectFieldStart(field);
    extreme(g, "worst_standardized_mean_shift", m.worstMeanShift());
    extreme(g, "worst_variance_ratio", m.worstVarianceRatio());
    number(g, "mode_relative_rms", m.layerModeRelativeRms());
    g.writeObjectFieldStart("per_channel");
    array(g, "population_mean", m.populationMean());
    array(g, "population_variance", m.populationVariance());
    array(g, "standardized_mean_shift", m.standardizedMeanShift());
    array(g, "variance_ratio", m.varianceRatio());
    array(g, "mode_relative_rms", m.modeRelativeRms());
    g.writeEndObject();
    g.writeEndObject();
  }

  private static void writeFinding(JsonGenerator g, Finding f, Subject subject) throws IOException {
    g.writeStartObject();
    g.writeStringField("code", f.code());
    g.writeStringField("severity", f.severity().label());
    g.writeStringField("layer", f.layer());
    g.writeNumberField("layer_index", f.layerIndex());
    g.writeStringField("subject", subject.label());
    g.writeStringField("message", f.message());
    g.writeObjectFieldStart("evidence");
    for (Evidence e : f.evidence()) {
      g.writeFieldName(e.name());
      value(g, e.value());
    }
    g.writeEndObject();
    g.writeStringField("fix", f.fix());
    g.writeStringField("docs", f.docsLink());
    g.writeStringField("suppressed", f.suppressed().map(Finding.Suppressed::reason).orElse(null));
    g.writeEndObject();
  }

  private static void value(JsonGenerator g, Object value) throws IOException {
    if (value instanceof Double d) {
      numberValue(g, d);
    } else if (value instanceof Number n) {
      g.writeNumber(n.longValue());
    } else if (value instanceof List<?> list) {
      g.writeStartArray();
      for (Object item : list) {
        value(g, item);
      }
      g.writeEndArray();
    } else {
      g.writeString(value.toString());
    }
  }

  private static void summary(JsonGenerator g, String name, VectorSummary s, boolean learned) throws IOException {
    g.writeObjectFieldStart(name);
    g.writeBooleanField("present", learned);
    number(g, "min", s.min());
    number(g, "mean", s.mean());
    number(g, "max", s.max());
    g.writeEndObject();
  }

  /** A generator of this project's JSON layout: objects one key per line, arrays on one line. */
  static JsonGenerator generator(Writer out) throws IOException {
    // per-channel vectors stay readable and diffable
    DefaultPrettyPrinter pretty = new DefaultPrettyPrinter(
            Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER))
        .withObjectIndenter(new DefaultIndenter("  ", "\n"))
        .withArrayIndenter(new DefaultPrettyPrinter.FixedSpaceIndenter());
    JsonGenerator g = FACTORY.createGenerator(out);
    g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    g.setPrettyPrinter(pretty);
    return g;
  }

  private static void extreme(JsonGenerator g, String name, ChannelExtreme e) throws IOException {
    g.writeObjectFieldStart(name);
    g.writeNumberField("channel", e.channel());
    number(g, "value", e.value());
    g.writeEndObject();
  }

  private static void array(JsonGenerator g, String name, double[] values) throws IOException {
    g.writeArrayFieldStart(name);
    for (double v : values) {
      numberValue(g, v);
    }
    g.writeEndArray();
  }

  static void number(JsonGenerator g, String name, double value) throws IOException {
    g.writeFieldName(name);
    numberValue(g, value);
  }

  static void numberValue(JsonGenerator g, double value) throws IOException {
    String text = Numbers.format(value, DIGITS);
    if (Double.isFinite(value)) {
      g.writeNumber(text);
    } else {
      g.writeString(text);
    }
  }
}
