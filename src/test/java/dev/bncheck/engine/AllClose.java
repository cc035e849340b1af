package dev.bncheck.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;

/**
 * Element-wise comparison with numpy's {@code allclose} rule, {@code |a - e| <= abs + rel * |e|},
 * reporting the worst element. With {@code -Dbncheck.engine.printErrors=true} it prints the
 * largest errors it saw, for re-measuring {@link Tolerances} against the references.
 */
final class AllClose {

  private AllClose() {}

  static void assertAllClose(String what, double[] actual, double[] expected, double absolute, double relative) {
    assertThat(actual).as("%s: length", what).hasSameSizeAs(expected);
    double maxAbs = 0;
    double maxRel = 0;
    double worstExcess = Double.NEGATIVE_INFINITY;
    int worst = -1;
    for (int i = 0; i < expected.length; i++) {
      double error = Math.abs(actual[i] - expected[i]);
      if (Double.isNaN(error) && !(Double.isNaN(actual[i]) && Double.isNaN(expected[i]))) {
        error = Double.POSITIVE_INFINITY;
      } else if (Double.isNaN(error) || actual[i] == expected[i]) {
        error = 0;
      }
      maxAbs = Math.max(maxAbs, error);
      if (expected[i] != 0) {
        maxRel = Math.max(maxRel, error / Math.abs(expected[i]));
      }
      double excess = error - (absolute + relative * Math.abs(expected[i]));
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
    if (Boolean.getBoolean("bncheck.engine.printErrors")) {
      System.out.printf(Locale.ROOT, "[errors] %s: max abs %.3e, max rel %.3e over %d values%n", what, maxAbs, maxRel, expected.length);
    }
    if (worst >= 0) {
      int i = worst;
      assertThat(worstExcess <= 0)
          .as("%s: element %d is %s, expected %s (error %.3e > %.1e + %.1e * |expected|)",
              what, i, actual[i], expected[i], Math.abs(actual[i] - expected[i]), absolute, relative)
          .isTrue();
    }
  }

  static void assertClose(String what, double actual, double expected, double absolute, double relative) {
    assertAllClose(what, new double[] {actual}, new double[] {expected}, absolute, relative);
  }
}
