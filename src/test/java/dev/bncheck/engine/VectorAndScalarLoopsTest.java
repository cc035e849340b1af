package dev.bncheck.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The kernel's Vector API loops against its scalar loops. pom.xml runs this at the CPU's own
 * vector width and at 256 bits (VectorWidthTest), so that both the 512-bit and the 256-bit loops
 * are compared on an AVX-512 machine; at 128 bits there are no vector loops, and it is left out.
 */
class VectorAndScalarLoopsTest {

  /**
   * The Vector API loops widen and accumulate with the scalar loops' arithmetic and send every
   * value to the same accumulator in the same order, so they must give the same bits, whatever the
   * lengths against the CPU's vector width and the chunks of rows, and carry NaN and infinities
   * through to the sums, where the kernel looks for them: rows of lanes (channels last) and runs
   * (channels first), each added to accumulators that already hold sums.
   */
  @Test
  void vectorAndScalarWideningGiveTheSameBits() {
    assertThat(ModuleLayer.boot().findModule("jdk.incubator.vector")).as("Surefire adds the Vector API module").isPresent();
    assumeTrue(MomentsKernel.widensInVectors(), "this CPU's vectors are too narrow for the Vector API loops");
    SplittableRandom random = new SplittableRandom(17);
    float[] x = new float[40_000];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (1e4 * (i % 3) + random.nextGaussian() * Math.pow(10, random.nextInt(-20, 20)));
    }
    x[133] = Float.NaN;
    x[140] = Float.POSITIVE_INFINITY;
    x[141] = Float.NEGATIVE_INFINITY;
    x[20_007] = Float.NaN;
    ByteBuffer inPlace = TestData.inNativeMemory(x);
    for (int width : new int[] {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 127, 128, 255, 300}) {
      for (int rows : new int[] {0, 1, 2, 5, 70, 129}) {
        for (int from : new int[] {0, 1, 5, 100}) {
          double[] shift = new double[width];
          for (int j = 0; j < width; j++) {
            shift[j] = x[from + j % 3];
          }
          double[][] vector = TestData.laneSums(width);
          double[][] scalar = TestData.laneSums(width);
          double[][] vectorInPlace = TestData.laneSums(width);
          double[][] scalarInPlace = TestData.laneSums(width);
          MomentsKernel.wideningDeviations(width).addRows(x, from, rows, shift, vector[0], vector[1], width);
          new ScalarWideningDeviations(width).addRows(x, from, rows, shift, scalar[0], scalar[1], width);
          MomentsKernel.wideningDeviations(width).addRows(inPlace, from, rows, shift, vectorInPlace[0],
              vectorInPlace[1], width);
          new ScalarWideningDeviations(width).addRows(inPlace, from, rows, shift, scalarInPlace[0], scalarInPlace[1],
              width);
          for (int k = 0; k < 2; k++) {
            String what = String.format("rows: width %d rows %d from %d, sums %d", width, rows, from, k);
            assertThat(vector[k]).as(what).containsExactly(scalar[k]);
            assertThat(vectorInPlace[k]).as("in native memory, " + what).containsExactly(scalar[k]);
            assertThat(scalarInPlace[k]).as("in native memory, scalar, " + what).containsExactly(scalar[k]);
          }
        }
      }
    }
    for (int length : new int[] {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 49, 64, 127, 128, 129, 3136, 20_011}) {
      for (int from : new int[] {0, 1, 5, 100, 160, 19_980}) {
        for (int runs : new int[] {1, 3}) {
          int stride = runs == 1 ? 0 : (x.length - from - length) / 2;
          double[] shift = {x[from], -x[from + stride], 1e4};
          double[][] vector = TestData.laneSums(runs);
          double[][] scalar = TestData.laneSums(runs);
          double[][] vectorInPlace = TestData.laneSums(runs);
          double[][] scalarInPlace = TestData.laneSums(runs);
          MomentsKernel.wideningDeviations(0).addRuns(x, from, runs, stride, length, shift, vector[0], vector[1]);
          new ScalarWideningDeviations(0).addRuns(x, from, runs, stride, length, shift, scalar[0], scalar[1]);
          MomentsKernel.wideningDeviations(0).addRuns(inPlace, from, runs, stride, length, shift, vectorInPlace[0],
              vectorInPlace[1]);
          new ScalarWideningDeviations(0).addRuns(inPlace, from, runs, stride, length, shift, scalarInPlace[0],
              scalarInPlace[1]);
          for (int k = 0; k < 2; k++) {
            String what = String.format("runs: length %d from %d runs %d, sums %d", length, from, runs, k);
            assertThat(vector[k]).as(what).containsExactly(scalar[k]);
            assertThat(vectorInPlace[k]).as("in native memory, " + what).containsExactly(scalar[k]);
            assertThat(scalarInPlace[k]).as("in native memory, scalar, " + what).containsExactly(scalar[k]);
          }
        }
      }
    }
  }
}
