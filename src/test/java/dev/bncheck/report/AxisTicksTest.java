package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AxisTicksTest {

  /**
   * Each case worked by hand: the smallest step of 1, 2, 2.5 or 5 × 10^k whose multiples cover the
   * range in at most four steps; a range without span becomes the value ± the power of ten below it.
   */
  static Stream<Arguments> handComputed() {
    return Stream.of(
        Arguments.of("0 to 10", 0.0, 10.0, List.of("0", "2.5", "5", "7.5", "10")),
        Arguments.of("all zero", 0.0, 0.0, List.of("-1", "-0.5", "0", "0.5", "1")),
        Arguments.of("all equal", 3.0, 3.0, List.of("2", "2.5", "3", "3.5", "4")),
        Arguments.of("all equal and negative", -0.0204, -0.0204, List.of("-0.04", "-0.03", "-0.02", "-0.01")),
        Arguments.of("across zero", -3.036, 2.5, List.of("-4", "-2", "0", "2", "4")),
        Arguments.of("all negative", -7.0, -1.2, List.of("-8", "-6", "-4", "-2", "0")),
        Arguments.of("quarters", 0.1, 0.9, List.of("0", "0.25", "0.5", "0.75", "1")),
        Arguments.of("tiny", 1e-9, 3e-9, List.of("1e-09", "1.5e-09", "2e-09", "2.5e-09", "3e-09")),
        Arguments.of("tiny span of a large value", 1000.0, 1000.004, List.of("1000", "1000.001", "1000.002",
            "1000.003", "1000.004")),
        Arguments.of("huge", -1e300, 1e300, List.of("-1e+300", "-5e+299", "0", "5e+299", "1e+300")),
        Arguments.of("beyond the largest drawn", -Double.MAX_VALUE, Double.MAX_VALUE,
            List.of("-1e+300", "-5e+299", "0", "5e+299", "1e+300")),
        Arguments.of("not a number", Double.NaN, Double.NaN, List.of("-1", "-0.5", "0", "0.5", "1")),
        Arguments.of("infinite ends", Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY,
            List.of("-1", "-0.5", "0", "0.5", "1")),
        Arguments.of("one end not a number", Double.NaN, 5.0, List.of("4", "4.5", "5", "5.5", "6")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("handComputed")
  void ticksAreNiceStepsCoveringTheRange(String name, double lo, double hi, List<String> labels) {
    AxisTicks ticks = AxisTicks.covering(lo, hi, 4);
    assertThat(ticks.labels()).isEqualTo(labels);
    assertThat(ticks.min()).isEqualTo(ticks.values().get(0));
    assertThat(ticks.max()).isEqualTo(ticks.values().get(ticks.values().size() - 1));
  }

  @Test
  void tickValuesAreTheDoublesNearestTheirDecimals() {
    assertThat(AxisTicks.covering(0.1, 0.3, 4).values()).containsExactly(0.1, 0.15, 0.2, 0.25, 0.3);
  }

  @Test
  void everyRangeGetsFiniteIncreasingDistinctTicksThatCoverIt() {
    double[] ends = {-1e300, -123456.7, -3, -1, -0.02, -1e-7, 0, 1e-300, 1e-12, 0.5, 0.999, 1, 7.3, 1e9, 4e20, 1e300};
    for (double lo : ends) {
      for (double hi : ends) {
        if (lo > hi) {
          continue;
        }
        for (int intervals : new int[] {2, 4, 6}) {
          AxisTicks ticks = AxisTicks.covering(lo, hi, intervals);
          String at = lo + " to " + hi + " in " + intervals;
          assertThat(ticks.values()).as(at).allMatch(Double::isFinite).isSorted().doesNotHaveDuplicates();
          assertThat(ticks.values().size()).as(at).isBetween(2, intervals + 1);
          assertThat(ticks.labels()).as(at).doesNotHaveDuplicates()
              .noneMatch(l -> l.contains("NaN") || l.contains("Infinity"));
          // Covered up to the resolution of the span: 1e-12 next to 1e300 is drawn at the axis end.
          double resolution = (hi - lo) * AxisTicks.EQUAL_RELATIVE;
          assertThat(ticks.min()).as(at).isLessThanOrEqualTo(lo + resolution);
          assertThat(ticks.max()).as(at).isGreaterThanOrEqualTo(hi - resolution);
        }
      }
    }
  }

  @Test
  void fewerThanTwoIntervalsAreRefused() {
    assertThatThrownBy(() -> AxisTicks.covering(0, 1, 1)).isInstanceOf(IllegalArgumentException.class);
  }
}
