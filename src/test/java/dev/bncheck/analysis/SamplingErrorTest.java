package dev.bncheck.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SamplingErrorTest {

  /** Upper-tail quantiles of the standard normal distribution, from published tables. */
  @ParameterizedTest
  @CsvSource({
      "0.5, 0.0",
      "0.1, 1.2815515655",
      "0.05, 1.6448536270",
      "0.025, 1.9599639845",
      "0.01, 2.3263478740",
      "0.001, 3.0902323062",
      "1e-4, 3.7190164855",
      "1e-6, 4.7534243088",
      "1e-9, 5.9978070150",
      "0.975, -1.9599639845"})
  void criticalValuesMatchTables(double p, double expected) {
    assertEquals(expected, SamplingError.criticalValue(p), 1e-8);
  }

  @Test
  void theFamilyWiseRateIsSharedAmongTheTests() {
    // 0.01 over 16 tests: P(Z > z) = 6.25e-4, z = 3.2272...
    assertEquals(3.2272, SamplingError.of(64, 16).z(), 1e-4);
    assertEquals(SamplingError.criticalValue(0.01), SamplingError.of(64, 1).z(), 1e-12);
  }

  @Test
  void aShiftCountsWhenItExceedsTheThresholdByMoreThanChance() {
    // 100 samples: standard error 0.1; z = 2.3263 for one test, margin 0.23263
    SamplingError chance = SamplingError.of(100, 1);
    assertEquals(0.1, chance.meanShiftError(), 1e-15);
    assertTrue(chance.meanShiftBeyond(0.74, 0.5));
    assertTrue(chance.meanShiftBeyond(-0.74, 0.5));
    assertFalse(chance.meanShiftBeyond(0.73, 0.5));
    assertFalse(chance.meanShiftBeyond(Double.NaN, 0.5));
  }

  @Test
  void aVarianceRatioCountsOnTheLogScale() {
    // 101 samples: standard error of ln(ratio) sqrt(2/100) = 0.141421; margin 0.328995 for one test
    SamplingError chance = SamplingError.of(101, 1);
    assertEquals(Math.sqrt(0.02), chance.logVarianceRatioError(), 1e-15);
    double limit = Math.exp(Math.log(2) + 0.328995);
    assertTrue(chance.varianceRatioBeyond(limit * 1.001, 2));
    assertFalse(chance.varianceRatioBeyond(limit * 0.999, 2));
    assertTrue(chance.varianceRatioBeyond(1 / (limit * 1.001), 2));
    assertFalse(chance.varianceRatioBeyond(1 / (limit * 0.999), 2));
  }

  @Test
  void theSamplesToJudgeAThresholdPutChanceBelowIt() {
    // z = 2.3263 for one test: (2.3263 / 0.5)^2 = 21.65, so 22 samples
    assertEquals(22, SamplingError.of(50, 1).samplesToJudge(0.5));
    // 0.01 over 1000 tests: z = 4.2649, (4.2649 / 0.5)^2 = 72.76
    assertEquals(73, SamplingError.of(50, 1000).samplesToJudge(0.5));
  }

  @Test
  void oneSampleHasNoSamplingError() {
    assertThrows(IllegalArgumentException.class, () -> SamplingError.of(1, 1));
    assertThrows(IllegalArgumentException.class, () -> SamplingError.criticalValue(0));
  }
}
