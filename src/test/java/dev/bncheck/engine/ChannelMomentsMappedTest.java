package dev.bncheck.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.model.ChannelAffine;
import org.junit.jupiter.api.Test;

class ChannelMomentsMappedTest {

  /**
   * Channel 0 holds 1, 2, 3 (mean 2, M2 2), mapped by x = -2 y + 5 to 3, 1, -1 (mean 1, M2 8);
   * channel 1 holds no value and keeps its stored 0s; counts and non-finite counts stay.
   */
  @Test
  void meansMapAsValuesAndSquaredDeviationsByTheSquaredScale() {
    ChannelMoments y = new ChannelMoments(new long[] {3, 0}, new double[] {2, 0}, new double[] {2, 0},
        new long[] {1, 4});
    ChannelMoments x = y.mapped(new ChannelAffine(new double[] {-2, 3}, new double[] {5, 7}));
    assertThat(x.count()).containsExactly(3, 0);
    assertThat(x.nonFinite()).containsExactly(1, 4);
    assertThat(x.mean()).containsExactly(new double[] {1, 0}, within(1e-15));
    assertThat(x.m2()).containsExactly(new double[] {8, 0}, within(1e-15));
  }
}
