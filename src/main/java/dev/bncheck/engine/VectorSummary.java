package dev.bncheck.engine;

/** Minimum, mean and maximum of a parameter vector; NaN when any value is NaN. */
public record VectorSummary(double min, double mean, double max) {

  public static VectorSummary of(double[] values) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double sum = 0;
    for (double v : values) {
      if (Double.isNaN(v)) {
        return new VectorSummary(Double.NaN, Double.NaN, Double.NaN);
      }
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    return new VectorSummary(min, sum / values.length, max);
  }
}
