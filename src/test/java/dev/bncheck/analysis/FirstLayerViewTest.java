package dev.bncheck.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.Tensor;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The first BN layer sees the same input in both views, so its statistics are judged on the
 * inference view, which ran on every sample. A stale Dense layer judged on the training view's
 * first 64 samples (64 values per channel) got no BN003 at all (a red-team find).
 */
class FirstLayerViewTest {

  private static final int CHANNELS = 16;

  @Test
  void theFirstLayersStatisticsAreJudgedOnEverySample() {
    double[] gamma = new double[CHANNELS];
    double[] mean = new double[CHANNELS];
    double[] variance = new double[CHANNELS];
    java.util.Arrays.fill(gamma, 1.2);
    // the data: mean 0, variance 1 per channel; the average stopped with 0.45 of it
    java.util.Arrays.fill(variance, 0.45);
    BnLayer layer = new BnLayer("dense_bn", "dense_bn", -1, 1e-3, OptionalDouble.empty(), null, OptionalLong.empty(),
        gamma, true, new double[CHANNELS], true, mean, variance, java.util.Optional.empty());
    BnModel model = new BnModel("m", "test", "keras", null, List.of(layer));
    CalibrationAccumulator data = new CalibrationAccumulator();
    SplittableRandom random = new SplittableRandom(7);
    for (int batch = 0; batch < 32; batch++) {
      float[] values = new float[32 * CHANNELS];
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) random.nextGaussian();
      }
      Tensor t = new Tensor.Float32(new int[] {32, CHANNELS}, values);
      data.accept(0, t, 1);
      if (batch < 2) {
        data.acceptTrainingView(0, t, 1);
      }
    }

    Report report = new Analyzer(Checks.ALL, Thresholds.DEFAULTS).analyze(model, data,
        Analyzer.DataAvailability.REQUESTED, new RunInfo("test", "check", "0", "test", null, FailOn.ERROR));

    assertThat(report.findings()).filteredOn(f -> f.code().equals("BN003")).singleElement()
        .satisfies(f -> assertThat(f.message()).contains("on 1024 samples"));
  }
}
