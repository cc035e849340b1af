package dev.bncheck.model;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * The one way bncheck writes numbers, so that reports are deterministic and diff cleanly:
 * rounded to a fixed number of significant digits, plain notation for moderate magnitudes,
 * {@code 1.5e-08}-style otherwise, and {@code NaN}, {@code Infinity}, {@code -Infinity}.
 */
public final class Numbers {

  private Numbers() {}

  public static String format(double value, int significantDigits) {
    if (Double.isNaN(value)) {
      return "NaN";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "Infinity" : "-Infinity";
    }
    if (value == 0) {
      return "0";
    }
    BigDecimal rounded =
        new BigDecimal(value).round(new MathContext(significantDigits, RoundingMode.HALF_EVEN)).stripTrailingZeros();
    int exponent = rounded.precision() - rounded.scale() - 1;
    if (exponent >= -4 && exponent < 9) {
      return rounded.toPlainString();
    }
    String digits = rounded.unscaledValue().abs().toString();
    StringBuilder out = new StringBuilder();
    if (rounded.signum() < 0) {
      out.append('-');
    }
    out.append(digits.charAt(0));
    if (digits.length() > 1) {
      out.append('.').append(digits, 1, digits.length());
    }
    out.append(exponent < 0 ? "e-" : "e+");
    int abs = Math.abs(exponent);
    if (abs < 10) {
      out.append('0');
    }
    out.append(abs);
    return out.toString();
  }

  /** Four significant digits, for text meant to be read. */
  public static String brief(double value) {
    return format(value, 4);
  }
}
