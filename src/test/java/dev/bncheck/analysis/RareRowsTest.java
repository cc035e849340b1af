package dev.bncheck.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bncheck.engine.ChannelExtreme;
import dev.bncheck.engine.DivergenceMetrics;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-computed cases of when a narrower sample may have missed rows rarer than it can hold. */
class RareRowsTest {

  /** PyTorch's momentum 0.1 with batches of 32: M = 608, and 608 ln(100) / 2 = 1399.97. */
  @Test
  void rareRowsShowFromMTimesHalfTheLogOfOneOverAlpha() {
    assertEquals(1400, RareRows.samplesToSeeThem(new SamplingError(256, 3, 608)));
    assertEquals(Long.MAX_VALUE, RareRows.samplesToSeeThem(new SamplingError(256, 3, Double.POSITIVE_INFINITY)));
  }

  /**
   * 256 samples against M = 608: each log ratio's error is sqrt(2/255 + 2/608) = 0.105511, and over
   * 4 channels the spread of one factor stays below 0.105511 (1 + 2 / sqrt(6)) = 0.19166. Ratios 3,
   * 27, 9 and 5 spread their logs by 0.8175 (each channel its own factor): rare rows may hide. Ratios
   * 9, 9.5, 8.6 and 9.2 spread by 0.036: one factor, a scaling. Tails 5 times normal's spread one
   * factor up to 0.958: the first ratios are then one factor too.
   */
  @Test
  void narrowerChannelsEachByItsOwnFactorMayBeRareRowsOneFactorIsAScaling() {
    SamplingError chance = new SamplingError(256, 3, 608);
    List<Integer> all = List.of(0, 1, 2, 3);
    double[] normal = {1, 1, 1, 1};
    assertTrue(RareRows.mayHide(metrics(3, 27, 9, 5), chance, all, normal));
    assertFalse(RareRows.mayHide(metrics(9, 9.5, 8.6, 9.2), chance, all, normal));
    assertFalse(RareRows.mayHide(metrics(3, 27, 9, 5), chance, all, new double[] {5, 5, 5, 5}));
  }

  /**
   * Four channels of eight narrower by 7 alike, the other four as the statistics say: one factor
   * among the narrower ones, but a scaling of the input would narrow all eight (log ratios spread by
   * 0.973 over the layer).
   */
  @Test
  void oneFactorIsJudgedOverTheLayersChannelsNotTheNarrowerOnes() {
    SamplingError chance = new SamplingError(256, 3, 608);
    double[] normal = {1, 1, 1, 1, 1, 1, 1, 1};
    assertTrue(RareRows.mayHide(metrics(7, 7, 7, 7, 1, 1, 1, 1), chance, List.of(0, 1, 2, 3), normal));
    assertFalse(RareRows.mayHide(metrics(7, 7, 7, 7, 7, 7, 7, 7), chance, List.of(0, 1, 2, 3), normal));
  }

  /**
   * Narrower by 100 at the median is as far as missed rows go (they would carry 99% of the
   * variance): medians 99 (of 50, 99, 150) and 100 may be rare rows, 101 (of 101, 50, 600) is not;
   * ratios 200, 670, 300 and 450 spread their logs by 0.44, each channel its own factor, and are
   * still no rare rows.
   */
  @Test
  void narrowerByMoreThanAHundredAtTheMedianIsNoRareRows() {
    SamplingError chance = new SamplingError(256, 3, 608);
    DivergenceMetrics m = metrics(50, 99, 150, 100, 101, 600);
    assertTrue(RareRows.withinWhatTheyExplain(m, List.of(0, 1, 2)));
    assertTrue(RareRows.withinWhatTheyExplain(m, List.of(3)));
    assertFalse(RareRows.withinWhatTheyExplain(m, List.of(4, 0, 5)));
    assertFalse(RareRows.withinWhatTheyExplain(m, List.of()));
    assertFalse(RareRows.mayHide(metrics(200, 670, 300, 450), chance, List.of(0, 1, 2, 3), new double[] {1, 1, 1, 1}));
  }

  /** From 1,400 samples a sample that missed them is rarer than 1%; one channel has no spread to judge. */
  @Test
  void enoughSamplesShowTheRowsAndOneChannelCannotShowOneFactor() {
    double[] normal = {1, 1, 1, 1};
    assertFalse(RareRows.mayHide(metrics(3, 27, 9, 5), new SamplingError(1400, 3, 608), List.of(0, 1, 2, 3), normal));
    assertTrue(RareRows.mayHide(metrics(3, 27, 9, 5), new SamplingError(1399, 3, 608), List.of(0, 1, 2, 3), normal));
    assertTrue(RareRows.mayHide(metrics(3, 27, 9, 5), new SamplingError(256, 3, 608), List.of(1), normal));
    assertFalse(RareRows.mayHide(metrics(3, 27, 9, 5), new SamplingError(256, 3, 608), List.of(), normal));
  }

  private static DivergenceMetrics metrics(double... ratios) {
    int n = ratios.length;
    return new DivergenceMetrics(new double[n], new double[n], new double[n], ratios, new double[n],
        new ChannelExtreme(0, 0), new ChannelExtreme(1, 27), 0);
  }
}
