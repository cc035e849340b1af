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

  private static final long[] POWERS_OF_TEN = new long[19];

  static {
    POWERS_OF_TEN[0] = 1;
    for (int i = 1; i < POWERS_OF_TEN.length; i++) {
      POWERS_OF_TEN[i] = 10 * POWERS_OF_TEN[i - 1];
    }
  }

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
    String fromShortest = fromShortestForm(value, significantDigits);
    if (fromShortest != null) {
      return fromShortest;
    }
    BigDecimal rounded =
        new BigDecimal(value).round(new MathContext(significantDigits, RoundingMode.HALF_EVEN)).stripTrailingZeros();
    return written(rounded.signum() < 0, rounded.unscaledValue().abs().toString(),
        rounded.precision() - rounded.scale() - 1);
  }

  /**
   * The value written as {@link #format} does, from its shortest decimal form ({@link
   * Double#toString}) where that rounds as the exact binary value does, else null. Rounding the
   * exact expansion, up to hundreds of digits in {@link BigDecimal}, took most of the time of
   * writing a ResNet-50's report (133,000 numbers, about 0.6 s in a fresh JVM). The short form
   * parses back to the value, so it is within half an ulp of it: where it lies more than four
   * ulps from the nearest rounding boundary (room for the distance's own rounding to double),
   * both lie strictly on the same side and round alike.
   */
  static String fromShortestForm(double value, int significantDigits) {
    if (significantDigits > 17) {
      return null;
    }
    String text = Double.toString(Math.abs(value));
    long digits = 0;
    int length = 0;
    int leadingZeros = 0;
    int beforePoint = 0;
    int power = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '.') {
        beforePoint = leadingZeros + length;
      } else if (c == 'E') {
        power = Integer.parseInt(text, i + 1, text.length(), 10);
        break;
      } else if (length == 0 && c == '0') {
        leadingZeros++;
      } else if (length < 18) {
        digits = digits * 10 + (c - '0');
        length++;
      } else {
        return null;
      }
    }
    if (length == 0) {
      return null;
    }
    while (digits % 10 == 0) {
      digits /= 10;
      length--;
    }
    // the power of ten of the first significant digit
    int exponent = power + beforePoint - 1 - leadingZeros;
    long kept = digits;
    double margin = 0.5 * Math.pow(10, exponent - significantDigits + 1);
    if (length > significantDigits) {
      long unit = POWERS_OF_TEN[length - significantDigits];
      kept = digits / unit;
      long rest = digits % unit;
      long half = unit / 2;
      if (rest > half || (rest == half && kept % 2 == 1)) {
        kept++;
      }
      margin = Math.abs(rest - half) * Math.pow(10, exponent - length + 1);
    }
    if (!(margin > 4 * Math.ulp(value))) {
      return null;
    }
    if (kept == POWERS_OF_TEN[Math.min(length, significantDigits)]) {
      // rounded up to the next power of ten
      exponent++;
    }
    while (kept % 10 == 0) {
      kept /= 10;
    }
    return written(value < 0, Long.toString(kept), exponent);
  }

  /** Significant digits without trailing zeros, whose first is at {@code 10^exponent}, in plain or exponent form. */
  private static String written(boolean negative, String digits, int exponent) {
    StringBuilder out = new StringBuilder();
    if (negative) {
      out.append('-');
    }
    if (exponent >= -4 && exponent < 9) {
      if (exponent < 0) {
        out.append("0.").append("0".repeat(-exponent - 1)).append(digits);
      } else if (digits.length() <= exponent + 1) {
        out.append(digits).append("0".repeat(exponent + 1 - digits.length()));
      } else {
        out.append(digits, 0, exponent + 1).append('.').append(digits, exponent + 1, digits.length());
      }
      return out.toString();
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
