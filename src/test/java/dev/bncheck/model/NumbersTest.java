package dev.bncheck.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NumbersTest {

  /** The definition the fast path must match: the exact binary value, rounded half-even, written out. */
  private static String exactlyRounded(double value, int digits) {
    BigDecimal rounded = new BigDecimal(value).round(new MathContext(digits, RoundingMode.HALF_EVEN)).stripTrailingZeros();
    int exponent = rounded.precision() - rounded.scale() - 1;
    if (exponent >= -4 && exponent < 9) {
      return rounded.toPlainString();
    }
    String d = rounded.unscaledValue().abs().toString();
    return (rounded.signum() < 0 ? "-" : "") + d.charAt(0) + (d.length() > 1 ? "." + d.substring(1) : "")
        + (exponent < 0 ? "e-" : "e+") + (Math.abs(exponent) < 10 ? "0" : "") + Math.abs(exponent);
  }

  @Test
  void roundsAsTheExactValueDoesOnRandomValuesOfEveryMagnitude() {
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 200_000; i++) {
      double value = Double.longBitsToDouble(random.nextLong() & 0x7fef_ffff_ffff_ffffL) * (random.nextBoolean() ? 1 : -1);
      int digits = 1 + random.nextInt(17);
      assertEquals(exactlyRounded(value, digits), Numbers.format(value, digits), value + " to " + digits);
    }
  }

  @Test
  void roundsAsTheExactValueDoesAtAndBesideDecimalTies() {
    List<Double> values = new ArrayList<>();
    // decimal ties whose double is just below or above them, ties that are exact in binary, and
    // their neighbours: where the shortest form and the exact value could round apart
    for (String tie : new String[] {"2.675", "1.005", "0.125", "2.5", "0.5", "1.00005", "9.99995", "1234.5",
        "0.0000345", "1.5e-300", "8.5e300", "4.35", "0.285", "1.0000000000000005", "5e-324"}) {
      double d = Double.parseDouble(tie);
      values.add(d);
      values.add(Math.nextUp(d));
      values.add(Math.nextDown(d));
    }
    for (int k = 1; k < 60; k++) {
      values.add(Math.scalb(1.0, -k) * 3);
      values.add(k + 0.5);
      values.add((k + 0.5) / 1024);
    }
    for (double value : values) {
      for (int digits = 1; digits <= 17; digits++) {
        assertEquals(exactlyRounded(value, digits), Numbers.format(value, digits), value + " to " + digits);
      }
    }
  }

  @Test
  void writesFixedDigitsInPlainOrExponentForm() {
    assertEquals("2.67", Numbers.format(2.675, 3));
    assertEquals("0.125", Numbers.format(0.125, 3));
    assertEquals("0.12", Numbers.format(0.125, 2));
    assertEquals("1.5e-08", Numbers.format(1.5e-8, 4));
    assertEquals("-1.235e+09", Numbers.format(-1234567890.0, 4));
    assertEquals("10", Numbers.format(9.99995, 5));
    assertEquals("0", Numbers.format(-0.0, 4));
    assertEquals("NaN", Numbers.format(Double.NaN, 4));
    assertEquals("-Infinity", Numbers.format(Double.NEGATIVE_INFINITY, 4));
  }
}
