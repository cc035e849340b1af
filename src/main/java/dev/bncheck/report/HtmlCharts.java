package dev.bncheck.report;

import dev.bncheck.analysis.LayerResult;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.model.Numbers;

/**
 * The SVG charts of the HTML report: the overview of every layer's worst divergence, and the
 * per-channel comparison of a layer's moving statistics with those of the calibration data.
 */
final class HtmlCharts {

  static final double SHIFT_MIN = 0.01;
  static final double SHIFT_MAX = 100;
  static final double RATIO_MIN = 0.001;
  static final double RATIO_MAX = 1000;

  private static final double LABEL = 230;
  private static final double PANEL = 360;
  private static final double VALUE = 70;
  private static final double ROW = 20;
  private static final double TOP = 44;
  private static final double BOTTOM = 26;
  private static final int NAME_CHARS = 30;

  private HtmlCharts() {}

  /** One row per layer in network order: worst |mean shift| and worst variance ratio, both in log scale. */
  static String overview(Report report) {
    Thresholds t = report.thresholds();
    int rows = report.layers().size();
    double shiftX = LABEL;
    double ratioX = LABEL + PANEL + VALUE;
    double width = ratioX + PANEL + VALUE;
    double height = TOP + rows * ROW + BOTTOM;
    double bottom = TOP + rows * ROW;
    Svg svg = new Svg(width, height, "worst standardized mean shift and worst variance ratio of every BN layer");
    svg.text(shiftX + PANEL / 2, 14, "middle", "title", "worst |standardized mean shift| (log scale)");
    svg.text(ratioX + PANEL / 2, 14, "middle", "title", "worst variance ratio (log scale)");
    for (int r = 0; r < rows; r++) {
      if (r % 2 == 1) {
        svg.rect(0, TOP + r * ROW, width, ROW, "stripe", null);
      }
    }
    for (int e = -2; e <= 2; e++) {
      double tick = Math.pow(10, e);
      double x = log(tick, SHIFT_MIN, SHIFT_MAX, shiftX, PANEL);
      svg.line(x, TOP - 4, x, bottom, "grid").text(x, bottom + 16, "middle", "tick", Numbers.brief(tick));
    }
    for (int e = -3; e <= 3; e++) {
      double tick = Math.pow(10, e);
      double x = log(tick, RATIO_MIN, RATIO_MAX, ratioX, PANEL);
      svg.line(x, TOP - 4, x, bottom, e == 0 ? "axis" : "grid").text(x, bottom + 16, "middle", "tick", Numbers.brief(tick));
    }
    threshold(svg, log(t.meanShiftWarning(), SHIFT_MIN, SHIFT_MAX, shiftX, PANEL), bottom, "warning",
        Numbers.brief(t.meanShiftWarning()));
    threshold(svg, log(t.meanShiftError(), SHIFT_MIN, SHIFT_MAX, shiftX, PANEL), bottom, "error",
        Numbers.brief(t.meanShiftError()));
    // A ratio r below 1 is judged as 1/r: the lines below 1 mirror those above, labelled once, above 1.
    threshold(svg, log(t.varianceRatioWarning(), RATIO_MIN, RATIO_MAX, ratioX, PANEL), bottom, "warning",
        Numbers.brief(t.varianceRatioWarning()));
    threshold(svg, log(1 / t.varianceRatioWarning(), RATIO_MIN, RATIO_MAX, ratioX, PANEL), bottom, "warning", null);
    threshold(svg, log(t.varianceRatioError(), RATIO_MIN, RATIO_MAX, ratioX, PANEL), bottom, "error",
        Numbers.brief(t.varianceRatioError()));
    threshold(svg, log(1 / t.varianceRatioError(), RATIO_MIN, RATIO_MAX, ratioX, PANEL), bottom, "error", null);
    for (int r = 0; r < rows; r++) {
      LayerResult layer = report.layers().get(r);
      double y = TOP + r * ROW;
      String name = layer.index() + " " + layer.layer().name();
      String shown = name.length() > NAME_CHARS ? name.substring(0, NAME_CHARS - 1) + "\u2026" : name;
      String status = ReportText.status(layer);
      svg.text(LABEL - 8, y + 14, "end", "name", shown, name + " (" + status + ")");
      if (layer.metrics().isEmpty()) {
        // In the value column, where a measured layer's number stands: inside a panel the label
        // would cross the threshold lines, which both panels have near their middle.
        svg.text(shiftX + PANEL + 6, y + 14, "start", "nodata", "no data");
        svg.text(ratioX + PANEL + 6, y + 14, "start", "nodata", "no data");
        continue;
      }
      DivergenceMetrics m = layer.metrics().get();
      double shift = m.worstMeanShift().value();
      double ratio = m.worstVarianceRatio().value();
      String title = name + " (" + status + "): worst mean shift " + Numbers.brief(shift) + " in channel "
          + m.worstMeanShift().channel() + ", worst variance ratio " + Numbers.brief(ratio) + " in channel "
          + m.worstVarianceRatio().channel();
      if (Double.isFinite(shift)) {
        double x = log(Math.abs(shift), SHIFT_MIN, SHIFT_MAX, shiftX, PANEL);
        svg.rect(shiftX, y + 4, x - shiftX, ROW - 8, "bar st-" + status, title);
      }
      svg.text(shiftX + PANEL + 6, y + 14, "start", "value", Numbers.brief(shift));
      if (Double.isFinite(ratio) && ratio > 0) {
        double one = log(1, RATIO_MIN, RATIO_MAX, ratioX, PANEL);
        double x = log(ratio, RATIO_MIN, RATIO_MAX, ratioX, PANEL);
        svg.rect(Math.min(one, x), y + 4, Math.abs(x - one), ROW - 8, "bar st-" + status, title);
      }
      svg.text(ratioX + PANEL + 6, y + 14, "start", "value", Numbers.brief(ratio));
    }
    return svg.build();
  }

  private static void threshold(Svg svg, double x, double bottom, String severity, String label) {
    svg.line(x, TOP - 8, x, bottom, "limit limit-" + severity);
    if (label != null) {
      svg.text(x, TOP - 11, severity.equals("error") ? "start" : "end", "limit-label " + severity, label);
    }
  }

  private static final double CW = 540;
  private static final double CH = 220;
  private static final double PL = 64;
  private static final double PR = 12;
  private static final double PT = 24;
  private static final double PB = 34;

  /** Moving mean (filled) against the calibration data's mean (hollow), per channel, linear scale. */
  static String means(String layer, double[] moving, DivergenceMetrics m, Thresholds t) {
    double[] data = m.populationMean();
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double[] values : new double[][] {moving, data}) {
      for (double v : values) {
        if (Double.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    AxisTicks ticks = AxisTicks.covering(lo, hi, 5);
    double ymin = ticks.min();
    double ymax = ticks.max();
    Svg svg = new Svg(CW, CH, "moving mean and calibration data mean per channel of " + layer);
    svg.text(CW / 2, 14, "middle", "title", "mean per channel: moving (filled) vs calibration data (hollow)");
    double plotH = CH - PT - PB;
    for (int i = 0; i < ticks.values().size(); i++) {
      double y = PT + linear(ticks.values().get(i), ymin, ymax, plotH);
      svg.line(PL, y, CW - PR, y, "grid").text(PL - 6, y + 4, "end", "tick", ticks.labels().get(i));
    }
    if (ymin < 0 && ymax > 0) {
      double y = PT + linear(0, ymin, ymax, plotH);
      svg.line(PL, y, CW - PR, y, "axis");
    }
    channels(svg, moving.length, (c, x, r) -> {
      double shift = m.standardizedMeanShift()[c];
      String cls = severity(Math.abs(shift), t.meanShiftWarning(), t.meanShiftError());
      String title = "channel " + c + ": moving mean " + Numbers.brief(moving[c]) + ", data mean "
          + Numbers.brief(data[c]) + ", standardized shift " + Numbers.brief(shift);
      return point(svg, x, r, linear(moving[c], ymin, ymax, plotH), linear(data[c], ymin, ymax, plotH), cls, title);
    });
    return svg.build();
  }

  /** Moving variance (filled) against the calibration data's variance (hollow), per channel, log scale. */
  static String variances(String layer, double[] moving, DivergenceMetrics m, Thresholds t) {
    double[] data = m.populationVariance();
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double[] values : new double[][] {moving, data}) {
      for (double v : values) {
        if (Double.isFinite(v) && v > 0) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    if (!(lo <= hi)) {
      lo = 0.1;
      hi = 10;
    }
    double ymin = Math.pow(10, Math.floor(Math.log10(lo)));
    double ymax = Math.pow(10, Math.ceil(Math.log10(hi)));
    if (ymax / ymin < 100) {
      ymin /= 10;
      ymax *= 10;
    }
    double lmin = ymin;
    double lmax = ymax;
    Svg svg = new Svg(CW, CH, "moving variance and calibration data variance per channel of " + layer);
    svg.text(CW / 2, 14, "middle", "title", "variance per channel (log scale): moving (filled) vs calibration data (hollow)");
    double plotH = CH - PT - PB;
    for (long e = Math.round(Math.log10(ymin)); e <= Math.round(Math.log10(ymax)); e++) {
      double tick = Math.pow(10, (double) e);
      double y = PT + plotH - plotH * (Math.log10(tick) - Math.log10(ymin)) / (Math.log10(ymax) - Math.log10(ymin));
      svg.line(PL, y, CW - PR, y, "grid").text(PL - 6, y + 4, "end", "tick", Numbers.brief(tick));
    }
    channels(svg, moving.length, (c, x, r) -> {
      double ratio = m.varianceRatio()[c];
      double farthest = Double.isNaN(ratio) ? Double.NaN : Math.max(ratio, 1 / ratio);
      String cls = severity(farthest, t.varianceRatioWarning(), t.varianceRatioError());
      String title = "channel " + c + ": moving variance " + Numbers.brief(moving[c]) + ", data variance "
          + Numbers.brief(data[c]) + ", ratio " + Numbers.brief(ratio);
      return point(svg, x, r, logY(moving[c], lmin, lmax, plotH), logY(data[c], lmin, lmax, plotH), cls, title);
    });
    return svg.build();
  }

  @FunctionalInterface
  private interface ChannelPoint {
    Svg draw(int channel, double x, double radius);
  }

  private static void channels(Svg svg, int channels, ChannelPoint point) {
    double plotW = CW - PL - PR;
    double step = plotW / Math.max(channels, 1);
    double radius = Math.max(1.2, Math.min(3.5, step / 3));
    int every = Math.max(1, (int) Math.ceil(channels / 16.0));
    double bottom = CH - PB;
    svg.line(PL, bottom, CW - PR, bottom, "axis");
    for (int c = 0; c < channels; c++) {
      double x = PL + step * (c + 0.5);
      if (c % every == 0) {
        svg.text(x, bottom + 14, "middle", "tick", String.valueOf(c));
      }
      point.draw(c, x, radius);
    }
    svg.text(PL + plotW / 2, CH - 4, "middle", "tick", "channel");
  }

  /** A dotted segment from the data's value to the moving value, the data hollow, the moving value filled. */
  private static Svg point(Svg svg, double x, double r, double moving, double data, String cls, String title) {
    double top = PT - 4;
    if (Double.isNaN(moving) || Double.isNaN(data)) {
      return svg.text(x, top + 10, "middle", "nan", "?");
    }
    double ym = PT + moving;
    double yd = PT + data;
    svg.line(x, yd, x, ym, "gap");
    svg.circle(x, yd, r, "pop", null);
    return svg.circle(x, ym, r, "mov st-" + cls, title);
  }

  /** Distance from the top of the plot, clamped to it, or NaN when the value cannot be placed. */
  private static double linear(double v, double min, double max, double plotH) {
    if (!Double.isFinite(v)) {
      return Double.NaN;
    }
    double clamped = Math.min(Math.max(v, min), max);
    return plotH - plotH * (clamped - min) / (max - min);
  }

  private static double logY(double v, double min, double max, double plotH) {
    if (Double.isNaN(v)) {
      return Double.NaN;
    }
    double clamped = Math.min(Math.max(v, min), max);
    return plotH - plotH * (Math.log10(clamped) - Math.log10(min)) / (Math.log10(max) - Math.log10(min));
  }

  private static String severity(double value, double warning, double error) {
    if (Double.isNaN(value) || value >= error) {
      return "error";
    }
    return value >= warning ? "warning" : "ok";
  }

  /** x of a value on a log axis, clamped to the axis. */
  static double log(double v, double min, double max, double x0, double width) {
    double clamped = Double.isNaN(v) ? min : Math.min(Math.max(v, min), max);
    return x0 + width * (Math.log10(clamped) - Math.log10(min)) / (Math.log10(max) - Math.log10(min));
  }
}
