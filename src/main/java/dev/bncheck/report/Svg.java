package dev.bncheck.report;

import dev.bncheck.model.Numbers;

/**
 * A minimal builder of inline SVG for the HTML report: shapes with coordinates rounded to one
 * decimal, so that the markup is deterministic, and text always escaped.
 */
final class Svg {

  private final StringBuilder s = new StringBuilder();

  Svg(double width, double height, String label) {
    s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(n(width)).append("\" height=\"")
        .append(n(height)).append("\" viewBox=\"0 0 ").append(n(width)).append(' ').append(n(height))
        .append("\" role=\"img\" aria-label=\"").append(Html.text(label)).append("\">\n");
  }

  /** A coordinate: one decimal, no trailing zeros. */
  static String n(double v) {
    return Numbers.format(Math.round(v * 10) / 10.0, 12);
  }

  Svg rect(double x, double y, double w, double h, String cls, String title) {
    s.append("<rect x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" width=\"").append(n(Math.max(w, 0)))
        .append("\" height=\"").append(n(Math.max(h, 0))).append("\" class=\"").append(cls).append('"');
    return close("rect", title);
  }

  Svg line(double x1, double y1, double x2, double y2, String cls) {
    s.append("<line x1=\"").append(n(x1)).append("\" y1=\"").append(n(y1)).append("\" x2=\"").append(n(x2))
        .append("\" y2=\"").append(n(y2)).append("\" class=\"").append(cls).append("\"/>\n");
    return this;
  }

  Svg circle(double cx, double cy, double r, String cls, String title) {
    s.append("<circle cx=\"").append(n(cx)).append("\" cy=\"").append(n(cy)).append("\" r=\"").append(n(r))
        .append("\" class=\"").append(cls).append('"');
    return close("circle", title);
  }

  /** Text, escaped; {@code anchor} is start, middle or end. */
  Svg text(double x, double y, String anchor, String cls, String text) {
    s.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" text-anchor=\"").append(anchor)
        .append("\" class=\"").append(cls).append("\">").append(Html.text(text)).append("</text>\n");
    return this;
  }

  /** Text, escaped, with a tooltip (escaped too) that shows the whole of a shortened text. */
  Svg text(double x, double y, String anchor, String cls, String text, String title) {
    s.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" text-anchor=\"").append(anchor)
        .append("\" class=\"").append(cls).append("\"><title>").append(Html.text(title)).append("</title>")
        .append(Html.text(text)).append("</text>\n");
    return this;
  }

  private Svg close(String element, String title) {
    if (title == null) {
      s.append("/>\n");
    } else {
      s.append("><title>").append(Html.text(title)).append("</title></").append(element).append(">\n");
    }
    return this;
  }

  String build() {
    return s + "</svg>\n";
  }
}
