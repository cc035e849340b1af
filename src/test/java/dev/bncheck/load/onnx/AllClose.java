package dev.bncheck.load.onnx;

import static org.assertj.core.api.Assertions.assertThat;

/** numpy's allclose for the ONNX tests, naming the worst element when it fails. */
final class AllClose {

  private AllClose() {}

  static void assertAllClose(String what, double[] actual, double[] expected, double absolute, double relative) {
    assertThat(actual).as(what + ": length").hasSameSizeAs(expected);
    int worst = -1;
    double worstExcess = 0;
    for (int i = 0; i < actual.length; i++) {
      double excess = Math.abs(actual[i] - expected[i]) - (absolute + relative * Math.abs(expected[i]));
      if (excess > worstExcess || Double.isNaN(excess)) {
        worstExcess = Double.isNaN(excess) ? Double.POSITIVE_INFINITY : excess;
        worst = i;
      }
    }
    assertThat(worst).as(what + ": element %d is %s, expected %s", worst,
        worst < 0 ? 0 : actual[worst], worst < 0 ? 0 : expected[worst]).isEqualTo(-1);
  }
}
