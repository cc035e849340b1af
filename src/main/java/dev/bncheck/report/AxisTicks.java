package dev.bncheck.report;

import dev.bncheck.model.Numbers;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * The ticks of a linear chart axis: steps of 1, 2, 2.5 or 5 times a power of ten, and an axis that
 * starts and ends on a tick, so that a reader sees 0, 1, 2 rather than 0.513, 1.03, 1.54.
 *
 * @param min the axis' lower end, the first tick
 * @param max the axis' upper end, the last tick
 * @param values the ticks from {@code min} to {@code max}, each the double nearest its decimal value
 * @param labels the ticks as written, with as many digits as tell them apart
 */
record AxisTicks(double min, double max, List<Double> values, List<String> labels) {

  /** Magnitudes beyond this are drawn at it, so that an axis end rounded up to a tick stays finite. */
  static final double LARGEST = 1e300;

  /** Magnitudes below this count as 0, so that a step is never a subnormal number. */
  static final double SMALLEST = 1e-300;

  /**
   * A span this small relative to the values counts as no span: telling the ends apart would take
   * more digits than a float32 statistic has.
   */
  static final double EQUAL_RELATIVE = 1e-9;

  private static final double[] MANTISSAS = {1, 2, 2.5, 5};

  AxisTicks {
    values = List.copyOf(values);
    labels = List.copyOf(labels);
    if (values.size() < 2 || values.size() != labels.size()) {
      throw new IllegalArgumentException("an axis needs at least two labelled ticks");
    }
  }

  /**
   * Ticks covering {@code [lo, hi]} in at most {@code maxIntervals} steps. Non-finite bounds are
   * ignored (the axis is then -1 to 1, as it is for all zeros); equal bounds get an axis one power of
   * ten below the value's magnitude either side of it.
   */
  static AxisTicks covering(double lo, double hi, int maxIntervals) {
    // One interval cannot cover a span that contains 0 with every step tried, so two is the least.
    if (maxIntervals < 2) {
      throw new IllegalArgumentException("maxIntervals must be at least 2");
    }
    if (!Double.isFinite(lo) || !Double.isFinite(hi)) {
      lo = Double.isFinite(hi) ? hi : Double.isFinite(lo) ? lo : 0;
      hi = lo;
    }
    double a = bounded(Math.min(lo, hi));
    double b = bounded(Math.max(lo, hi));
    double magnitude = Math.max(Math.abs(a), Math.abs(b));
    if (b - a <= magnitude * EQUAL_RELATIVE) {
      double middle = a / 2 + b / 2;
      double spread = middle == 0 ? 1 : Math.pow(10, Math.floor(Math.log10(Math.abs(middle))));
      a = middle - spread;
      b = middle + spread;
    }
    int exponent = (int) Math.floor(Math.log10((b - a) / maxIntervals));
    for (int e = exponent; ; e++) {
      for (double mantissa : MANTISSAS) {
        BigDecimal step = BigDecimal.valueOf(mantissa).scaleByPowerOfTen(e).stripTrailingZeros();
        double stepValue = step.doubleValue();
        long first = (long) Math.floor(nearInteger(a / stepValue));
        long last = (long) Math.ceil(nearInteger(b / stepValue));
        if (last - first <= maxIntervals) {
          return of(step, first, last);
        }
      }
    }
  }

  private static AxisTicks of(BigDecimal step, long first, long last) {
    List<Double> values = new ArrayList<>();
    for (long k = first; k <= last; k++) {
      values.add(step.multiply(BigDecimal.valueOf(k)).doubleValue());
    }
    double largest = Math.max(Math.abs(values.get(0)), Math.abs(values.get(values.size() - 1)));
    // The step's leading digit sits this many places below the largest tick's; 2.5 needs one more.
    int digits = (int) Math.floor(Math.log10(largest)) - (step.precision() - step.scale() - 1) + step.precision();
    List<String> labels = values.stream().map(v -> Numbers.format(v, Math.max(digits, 1))).toList();
    return new AxisTicks(values.get(0), values.get(values.size() - 1), values, labels);
  }

  /**
   * The quotient, or the integer it differs from by round-off only: 3e-9 / 5e-10 is
   * 6.000000000000001 in doubles, and its ceiling would add a step beyond the data.
   */
  private static double nearInteger(double quotient) {
    double integer = Math.rint(quotient);
    return Math.abs(quotient - integer) <= Math.max(1, Math.abs(quotient)) * 1e-12 ? integer : quotient;
  }

  private static double bounded(double v) {
    if (Math.abs(v) < SMALLEST) {
      return 0;
    }
    return Math.max(-LARGEST, Math.min(LARGEST, v));
  }
}
