package dev.bncheck.load.array;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SampleOrderTest {

  @Test
  void everySeedGivesAPermutationAndTheDefaultIsTheFixedSeed() {
    for (long seed = -3; seed < 20; seed++) {
      int[] order = SampleOrder.permutation(10, seed);
      assertArrayEquals(IntStream.range(0, 10).toArray(), Arrays.stream(order).sorted().toArray());
    }
    assertArrayEquals(SampleOrder.permutation(50, SampleOrder.SEED), SampleOrder.permutation(50));
  }

  @Test
  void seedsGiveDifferentOrders() {
    assertFalse(Arrays.equals(SampleOrder.permutation(50, 1), SampleOrder.permutation(50, 2)));
    assertFalse(Arrays.equals(IntStream.range(0, 50).toArray(), SampleOrder.permutation(50, 1)));
  }
}
