package dev.bncheck.load.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.model.Tensor;
import org.junit.jupiter.api.Test;

/** The batch statistics a training-mode node of the self-check's own run normalizes with. */
class SelfCheckRunTest {

  /**
   * NCHW [2, 2, 2]: channel 0 holds 1, 2 (sample 0) and 5, 6 (sample 1), mean 3.5, variance
   * (6.25 + 2.25 + 2.25 + 6.25) / 4 = 4.25; channel 1 holds 3, 4, 7 and NaN, the NaN left out:
   * mean 14 / 3, variance ((5/3)^2 + (2/3)^2 + (7/3)^2) / 3 = 26 / 9.
   */
  @Test
  void channelMomentsAreTheFiniteValuesMeanAndVarianceOfDivisorN() {
    Tensor t = new Tensor.Float32(new int[] {2, 2, 2}, new float[] {1, 2, 3, 4, 5, 6, 7, Float.NaN});
    double[][] moments = OnnxCalibration.channelMoments(t, 1, 2);
    assertThat(moments[0]).containsExactly(new double[] {3.5, 14.0 / 3}, within(1e-12));
    assertThat(moments[1]).containsExactly(new double[] {4.25, 26.0 / 9}, within(1e-12));
  }

  /** NHWC [1, 2, 2]: the channel is the last axis. */
  @Test
  void theChannelAxisMayBeTheLast() {
    Tensor t = new Tensor.Float32(new int[] {1, 2, 2}, new float[] {1, 10, 3, 30});
    double[][] moments = OnnxCalibration.channelMoments(t, 2, 2);
    assertThat(moments[0]).containsExactly(new double[] {2, 20}, within(1e-12));
    assertThat(moments[1]).containsExactly(new double[] {1, 100}, within(1e-12));
  }
}
