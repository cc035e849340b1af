package dev.bncheck.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ChannelAffineTest {

  /**
   * Channel 0: gamma 2, beta 1, moving mean 3, variance 3 and epsilon 1 (deviation 2) give
   * y = 2 (x - 3) / 2 + 1 = x - 2, so x = y + 2. Channel 1: gamma -0.5, beta 0, mean 0, variance 0
   * (deviation sqrt(1) = 1 with epsilon 1) give y = -0.5 x, so x = -2 y.
   */
  @Test
  void anInferenceModeLayerIsInvertedChannelByChannel() {
    ChannelAffine map = ChannelAffine.inputOf(layer(new double[] {2, -0.5}, new double[] {1, 0},
        new double[] {3, 0}, new double[] {3, 0})).orElseThrow();
    assertThat(map.scale()).containsExactly(new double[] {1, -2}, within(1e-15));
    assertThat(map.shift()).containsExactly(new double[] {2, 0}, within(1e-15));
  }

  /** Below 1e-3 of max(1, |beta|) a gamma leaves too little of the input's spread in the output. */
  @Test
  void aGammaNearZeroOrAValueNotFiniteLeavesNoMap() {
    double[] zero = {0};
    double[] one = {1};
    assertThat(ChannelAffine.inputOf(layer(new double[] {9e-4}, zero, zero, one))).isEmpty();
    assertThat(ChannelAffine.inputOf(layer(new double[] {1.1e-3}, zero, zero, one))).isPresent();
    assertThat(ChannelAffine.inputOf(layer(new double[] {0.009}, new double[] {10}, zero, one))).isEmpty();
    assertThat(ChannelAffine.inputOf(layer(new double[] {0.011}, new double[] {-10}, zero, one))).isPresent();
    assertThat(ChannelAffine.inputOf(layer(one, new double[] {Double.NaN}, zero, one))).isEmpty();
    assertThat(ChannelAffine.inputOf(layer(one, zero, new double[] {Double.POSITIVE_INFINITY}, one))).isEmpty();
    assertThat(ChannelAffine.inputOf(layer(one, zero, zero, new double[] {-2}))).isEmpty();
  }

  private static BnLayer layer(double[] gamma, double[] beta, double[] mean, double[] variance) {
    return BnLayer.builder("bn", "test").channelAxis(1).epsilon(1).gamma(gamma).beta(beta)
        .statistics(mean, variance).build();
  }
}
