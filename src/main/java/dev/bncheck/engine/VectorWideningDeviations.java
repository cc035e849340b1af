package dev.bncheck.engine;

import java.util.Optional;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link WideningDeviations} on the incubating Vector API, which widens floats to doubles a
 * vector at a time; Java 17's JIT does that conversion only one value at a time, and it bounded
 * the kernel at about a third of a sequential read on AMD EPYC (docs/performance.md). The lane
 * operations are IEEE subtraction, addition and multiplication, as in the scalar loop, so the
 * results are the same bits.
 *
 * <p>Compiled apart from the other sources (pom.xml), because javac warns about any use of an
 * incubating module and the build fails on warnings. {@link MomentsKernel} loads it by name, only
 * when {@code jdk.incubator.vector} is in the boot layer.
 */
final class VectorWideningDeviations implements WideningDeviations {

  private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;

  /** Floats as many as the double vector has lanes, so that one conversion fills it. */
  private static final VectorSpecies<Float> FLOATS =
      VectorSpecies.of(float.class, VectorShape.forBitSize(DOUBLES.vectorBitSize() / 2));

  private VectorWideningDeviations() {}

  /**
   * These loops, where the JIT maps their species onto the CPU's vectors. With doubles narrower
   * than 256 bits the floats would be a 64-bit species, which C2 of Java 17 may not compile into
   * vector instructions, and the Vector API then runs boxed, far slower than the scalar loop.
   */
  static Optional<WideningDeviations> whereProfitable() {
    return DOUBLES.vectorBitSize() >= 256 ? Optional.of(new VectorWideningDeviations()) : Optional.empty();
  }

  @Override
  public void add(float[] x, int from, double[] shift, double[] sum, double[] sumSq, int length) {
    int step = DOUBLES.length();
    int j = 0;
    for (int whole = length - length % step; j < whole; j += step) {
      DoubleVector d = widened(x, from + j).sub(DoubleVector.fromArray(DOUBLES, shift, j));
      DoubleVector.fromArray(DOUBLES, sum, j).add(d).intoArray(sum, j);
      DoubleVector.fromArray(DOUBLES, sumSq, j).add(d.mul(d)).intoArray(sumSq, j);
    }
    for (; j < length; j++) {
      double d = x[from + j] - shift[j];
      sum[j] += d;
      sumSq[j] += d * d;
    }
  }

  @Override
  public void add(float[] x, int from, double shift, double[] sum, double[] sumSq, int length) {
    int step = DOUBLES.length();
    DoubleVector k = DoubleVector.broadcast(DOUBLES, shift);
    int j = 0;
    for (int whole = length - length % step; j < whole; j += step) {
      DoubleVector d = widened(x, from + j).sub(k);
      DoubleVector.fromArray(DOUBLES, sum, j).add(d).intoArray(sum, j);
      DoubleVector.fromArray(DOUBLES, sumSq, j).add(d.mul(d)).intoArray(sumSq, j);
    }
    for (; j < length; j++) {
      double d = x[from + j] - shift;
      sum[j] += d;
      sumSq[j] += d * d;
    }
  }

  private static DoubleVector widened(float[] x, int from) {
    return (DoubleVector) FloatVector.fromArray(FLOATS, x, from).convertShape(VectorOperators.F2D, DOUBLES, 0);
  }
}
