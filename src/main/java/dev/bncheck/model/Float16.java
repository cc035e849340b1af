package dev.bncheck.model;

/** IEEE 754 half precision to and from float; Java 17 has neither Float.float16ToFloat nor floatToFloat16. */
public final class Float16 {

  /** The largest finite half: 65504. */
  public static final float MAX_VALUE = 65504f;

  private Float16() {}

  /**
   * The half nearest to {@code value}, ties to even, as IEEE 754 conversion rounds: beyond 65520
   * (halfway past the largest finite half) infinity, below half the smallest subnormal (2^-25)
   * zero, NaN stays NaN (quiet).
   */
  public static short fromFloat(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int exponent = (bits >>> 23) & 0xff;
    int mantissa = bits & 0x7fffff;
    if (exponent == 0xff) {
      return (short) (sign | 0x7c00 | (mantissa != 0 ? 0x200 | (mantissa >>> 13) : 0));
    }
    int halfExponent = exponent - 127 + 15;
    if (halfExponent >= 0x1f) {
      return (short) (sign | 0x7c00);
    }
    if (halfExponent <= 0) {
      // subnormal half, or zero: the significand with its implicit bit, shifted into place
      if (halfExponent < -10) {
        return (short) sign;
      }
      int significand = mantissa | 0x800000;
      int shift = 14 - halfExponent;
      int half = significand >>> shift;
      int rest = significand & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      if (rest > halfway || (rest == halfway && (half & 1) != 0)) {
        half++;
      }
      return (short) (sign | half);
    }
    int half = (halfExponent << 10) | (mantissa >>> 13);
    int rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
      // a carry out of the mantissa raises the exponent, up to infinity: the bits do it in order
      half++;
    }
    return (short) (sign | half);
  }

  public static float toFloat(short bits) {
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      // Subnormal: mantissa * 2^-24, exact in float.
      float value = mantissa * 0x1p-24f;
      return sign == 0 ? value : -value;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }
}
