package dev.bncheck.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.ChannelExtreme;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.MomentumConvention;
import dev.bncheck.model.Tensor;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
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
    assertTrue(RareRows.mayHide(metrics(3, 27, 9, 5), chance, chance.samples(), all, normal));
    assertFalse(RareRows.mayHide(metrics(9, 9.5, 8.6, 9.2), chance, chance.samples(), all, normal));
    assertFalse(RareRows.mayHide(metrics(3, 27, 9, 5), chance, chance.samples(), all, new double[] {5, 5, 5, 5}));
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
    assertTrue(RareRows.mayHide(metrics(7, 7, 7, 7, 1, 1, 1, 1), chance, chance.samples(), List.of(0, 1, 2, 3), normal));
    assertFalse(RareRows.mayHide(metrics(7, 7, 7, 7, 7, 7, 7, 7), chance, chance.samples(), List.of(0, 1, 2, 3), normal));
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
    assertFalse(RareRows.mayHide(metrics(200, 670, 300, 450), chance, chance.samples(), List.of(0, 1, 2, 3), new double[] {1, 1, 1, 1}));
  }

  /** From 1,400 samples a sample that missed them is rarer than 1%; one channel has no spread to judge. */
  @Test
  void enoughSamplesShowTheRowsAndOneChannelCannotShowOneFactor() {
    double[] normal = {1, 1, 1, 1};
    assertFalse(RareRows.mayHide(metrics(3, 27, 9, 5), new SamplingError(1400, 3, 608), 1400, List.of(0, 1, 2, 3), normal));
    assertTrue(RareRows.mayHide(metrics(3, 27, 9, 5), new SamplingError(1399, 3, 608), 1399, List.of(0, 1, 2, 3), normal));
    assertTrue(RareRows.mayHide(metrics(3, 27, 9, 5), new SamplingError(256, 3, 608), 256, List.of(1), normal));
    assertFalse(RareRows.mayHide(metrics(3, 27, 9, 5), new SamplingError(256, 3, 608), 256, List.of(), normal));
  }

  /**
   * A layer judged on a training view of 256 samples (8 batches of 32), each channel 10 times
   * narrower than its moving variance by its own factor (0.7 to 1.4 times 10), at PyTorch's
   * momentum 0.1: below the 1,400 samples that tell, rare rows may hide, and BN003 is a warning.
   * The inference view ran on 2,048 samples (64 batches) and is as narrow, its batches no more
   * varied: the rows the statistics would need are missing from 2,048 samples too, and BN003 is an
   * error (an outside tester's PyTorch CNN, a middle layer's running variance times 10, accuracy
   * 0.98 to 0.63, had passed on 4,096 samples). With one row 60 deviations out in one of the 64
   * batches, the inference view held a rare row: the warning stays.
   */
  @Test
  void anInferenceViewOfMoreSamplesAsNarrowAndNoHeavierTailedShowsTheRowsAreNotThere() {
    double[] factor = {0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4};
    LayerFixture f = LayerFixture.healthy().momentum(0.1, MomentumConvention.PYTORCH).set(x -> {
      for (int c = 0; c < LayerFixture.CHANNELS; c++) {
        x.movingMean[c] = 0;
        x.movingVariance[c] = 10 * factor[c];
      }
    });
    BnLayer layer = f.layer();
    LayerCalibration training = normalBatches(8, 0, 1);
    assertEquals(Severity.WARNING, judgedOnTrainingView(layer, normalBatches(8, 0, 2), training).severity());
    Finding asNarrow = judgedOnTrainingView(layer, normalBatches(64, 0, 3), training);
    assertEquals(Severity.ERROR, asNarrow.severity());
    assertTrue(asNarrow.evidence().contains(new Evidence("inference_view_samples_as_narrow", 2048L)));
    assertEquals(Severity.WARNING, judgedOnTrainingView(layer, normalBatches(64, 60, 3), training).severity());
  }

  private static Finding judgedOnTrainingView(BnLayer layer, LayerCalibration inference, LayerCalibration training) {
    BnModel model = new BnModel("test.json", "bncheck-dump v1", "pytorch", null, List.of(layer));
    LayerContext context = new LayerContext(model, 1, layer, Optional.of(inference),
        Optional.of(DivergenceMetrics.of(layer, inference)), Optional.of(DivergenceMetrics.of(layer, training)),
        Thresholds.DEFAULTS, Optional.of(training), LayerContext.testsOf(layer));
    return new StaleStatistics().check(context).orElseThrow();
  }

  /**
   * Batches of 32 standard normal rows; with {@code outlier} above 0, the first row of the last
   * batch is that many deviations out in every channel.
   */
  static LayerCalibration normalBatches(int batches, double outlier, long seed) {
    CalibrationAccumulator acc = new CalibrationAccumulator();
    SplittableRandom random = new SplittableRandom(seed);
    for (int b = 0; b < batches; b++) {
      float[] x = new float[32 * LayerFixture.CHANNELS];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) random.nextGaussian();
      }
      if (outlier > 0 && b == batches - 1) {
        java.util.Arrays.fill(x, 0, LayerFixture.CHANNELS, (float) outlier);
      }
      acc.accept(0, new Tensor.Float32(new int[] {32, LayerFixture.CHANNELS}, x), 1);
    }
    return acc.layer(0).orElseThrow();
  }

  private static DivergenceMetrics metrics(double... ratios) {
    int n = ratios.length;
    return new DivergenceMetrics(new double[n], new double[n], new double[n], ratios, new double[n],
        new ChannelExtreme(0, 0), new ChannelExtreme(1, 27), 0);
  }
}
