package dev.bncheck.engine;

import static dev.bncheck.engine.AllClose.assertAllClose;
import static dev.bncheck.engine.AllClose.assertClose;
import static dev.bncheck.engine.TestData.layer;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class DivergenceMetricsTest {

  @Test
  void metricsOfATinyLayerEqualHandComputedValues() {
    // eps = 0.25, channel axis 1, two batches whose channel 0 differs between them:
    //   batch A = [[0.8, 5, -1.2], [0.8, 5, 1.2]],  batch B = [[3.2, 5, -1.2], [3.2, 5, 1.2]]
    // Population (all four rows):
    //   ch 0: [0.8, 0.8, 3.2, 3.2]   mean 2, var 1.44 (each batch alone has var 0)
    //   ch 1: [5, 5, 5, 5]           mean 5, var 0
    //   ch 2: [-1.2, 1.2, -1.2, 1.2] mean 0, var 1.44
    //   sqrt(var + eps) = sqrt(1.69) = 1.3, sqrt(0.25) = 0.5, 1.3
    // Moving statistics and the metrics they give:
    //   ch 0: mean 4.6  -> shift (4.6 - 2) / 1.3 = 2;     var 0.1725 -> ratio 0.4225 / 1.69 = 0.25
    //   ch 1: mean 3.5  -> shift (3.5 - 5) / 0.5 = -3;    var 0.5    -> ratio 0.75 / 0.25   = 3
    //   ch 2: mean 0.65 -> shift 0.65 / 1.3      = 0.5;   var 1.44   -> ratio 1.69 / 1.69   = 1
    // Worst shift: ch 1 (|-3| beats 2; reported with its sign). Worst ratio: ch 0, because
    // |ln 0.25| = 1.39 > |ln 3| = 1.10, although 3 is farther from 1 on a linear scale.
    BnLayer layer = layer(1, new double[] {1, 1, 1}, new double[] {0, 0, 0},
        new double[] {4.6, 3.5, 0.65}, new double[] {0.1725, 0.5, 1.44}, 0.25);
    ChannelMoments a = MomentsKernel.compute(new Tensor.Float64(new int[] {2, 3}, new double[] {0.8, 5, -1.2, 0.8, 5, 1.2}), 1);
    ChannelMoments b = MomentsKernel.compute(new Tensor.Float64(new int[] {2, 3}, new double[] {3.2, 5, -1.2, 3.2, 5, 1.2}), 1);
    LayerCalibration calibration = new LayerCalibration(List.of(a, b), a.merge(b), new int[] {2, 3});

    DivergenceMetrics m = DivergenceMetrics.of(layer, calibration);

    assertAllClose("population mean", m.populationMean(), new double[] {2, 5, 0}, Tolerances.HAND_COMPUTED, 0);
    assertAllClose("population variance", m.populationVariance(), new double[] {1.44, 0, 1.44}, Tolerances.HAND_COMPUTED, 0);
    assertAllClose("standardized mean shift", m.standardizedMeanShift(), new double[] {2, -3, 0.5}, Tolerances.HAND_COMPUTED, 0);
    assertAllClose("variance ratio", m.varianceRatio(), new double[] {0.25, 3, 1}, Tolerances.HAND_COMPUTED, 0);
    assertThat(m.worstMeanShift().channel()).isEqualTo(1);
    assertClose("worst mean shift", m.worstMeanShift().value(), -3, Tolerances.HAND_COMPUTED, 0);
    assertThat(m.worstVarianceRatio().channel()).isEqualTo(0);
    assertClose("worst variance ratio", m.worstVarianceRatio().value(), 0.25, Tolerances.HAND_COMPUTED, 0);

    ModeDivergence modes = ModeDivergence.of(layer, List.of(a, b));
    assertThat(m.modeRelativeRms()).containsExactly(modes.perChannel());
    assertThat(m.layerModeRelativeRms()).isEqualTo(modes.layer());
  }

  @Test
  void aChannelWithoutFiniteCalibrationValuesIsReportedWorst() {
    // Channel 1 is all NaN: its population variance, shift and ratio are NaN, and a NaN must
    // win over channel 0's large but finite shift and ratio.
    BnLayer layer = layer(1, new double[] {1, 1}, new double[] {0, 0},
        new double[] {100, 0}, new double[] {1000, 1}, 1e-3);
    ChannelMoments batch = MomentsKernel.compute(
        new Tensor.Float64(new int[] {2, 2}, new double[] {1, Double.NaN, 3, Double.NaN}), 1);

    DivergenceMetrics m = DivergenceMetrics.of(layer, new LayerCalibration(List.of(batch), batch, new int[] {2, 2}));

    assertThat(m.standardizedMeanShift()[0]).isGreaterThan(90);
    assertThat(m.standardizedMeanShift()[1]).isNaN();
    assertThat(m.varianceRatio()[1]).isNaN();
    assertThat(m.worstMeanShift().channel()).isEqualTo(1);
    assertThat(m.worstMeanShift().value()).isNaN();
    assertThat(m.worstVarianceRatio().channel()).isEqualTo(1);
    assertThat(m.worstVarianceRatio().value()).isNaN();
  }
}
