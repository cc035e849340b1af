package dev.bncheck.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Float16Test {

  /** IEEE 754 binary16 encodings (as numpy.float16(x).view(numpy.uint16) gives them). */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "1.0, 0x3c00",
      "-2.0, 0xc000",
      "0.0, 0x0000",
      "-0.0, 0x8000",
      "65504, 0x7bff",
      "65519.99, 0x7bff",
      "65520, 0x7c00",
      "1e9, 0x7c00",
      "-1e9, 0xfc00",
      "0.1, 0x2e66",
      "0.333333343, 0x3555",
      "6.1035156e-05, 0x0400",
      "5.9604645e-08, 0x0001",
      "2.9802322e-08, 0x0000",
      "2.9802326e-08, 0x0001",
      "8.940697e-08, 0x0002",
      "6.097555e-05, 0x03ff",
      "1.00048828125, 0x3c00",
      "1.00146484375, 0x3c02",
      "1.0009765625, 0x3c01",
      "2047.5, 0x6800",
      "2048.5, 0x6800"})
  void roundsToTheNearestHalfTiesToEven(float value, String bits) {
    assertThat(Float16.fromFloat(value) & 0xffff).isEqualTo(Integer.decode(bits));
  }

  @Test
  void infinitiesAndNanKeepTheirKind() {
    assertThat(Float16.fromFloat(Float.POSITIVE_INFINITY) & 0xffff).isEqualTo(0x7c00);
    assertThat(Float16.fromFloat(Float.NEGATIVE_INFINITY) & 0xffff).isEqualTo(0xfc00);
    assertThat(Float.isNaN(Float16.toFloat(Float16.fromFloat(Float.NaN)))).isTrue();
  }

  /** Every finite half survives the round trip through float exactly, and every NaN stays NaN. */
  @Test
  void everyHalfRoundTrips() {
    for (int bits = 0; bits < 0x10000; bits++) {
      float value = Float16.toFloat((short) bits);
      short back = Float16.fromFloat(value);
      if (Float.isNaN(value)) {
        assertThat(Float.isNaN(Float16.toFloat(back))).as("bits %04x", bits).isTrue();
      } else {
        assertThat(back & 0xffff).as("bits %04x", bits).isEqualTo(bits);
      }
    }
  }
}
