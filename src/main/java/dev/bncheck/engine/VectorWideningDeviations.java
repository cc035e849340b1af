package dev.bncheck.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
 * operations are IEEE subtraction, addition and multiplication, as in the scalar loop, and every
 * accumulator gets the same values in the same order, so the results are the same bits.
 *
 * <p>A run's accumulators stay in vector registers and go back to their array only at its end:
 * loading and storing them for every vector of values bounded channels-first batches at about
 * half a sequential read on AMD EPYC (issue #19). One call goes through every channel's run of
 * an outer index, so that the JIT compiles that loop with the runs' folding and nothing else.
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
   * vector instructions, and the Vector API then runs boxed, far slower than the scalar loop. A
   * run's accumulators fill two vectors of 512 bits or four of 256, held in named registers.
   */
  static Optional<WideningDeviations> whereProfitable() {
    boolean suited = DOUBLES.length() == 4 || DOUBLES.length() == 8;
    return suited ? Optional.of(new VectorWideningDeviations()) : Optional.empty();
  }

  /**
   * Four rows per step, one from each of the four streams ({@link WideningDeviations#ROW_STREAMS}):
   * each lane's accumulators are loaded once, get the four deviations in stream order, and are
   * stored once. Loading and storing them for every row bounded NHWC [64,56,56,256] at about 10
   * GB/s on one thread of AMD EPYC, half a sequential read (issue #19); four streams each reading
   * its quarter front to back read it at 22, where four consecutive rows per step, which the
   * prefetcher sees as four streams with gaps, read it at 8.
   */
  @Override
  public void addRows(float[] x, int from, int rows, double[] shift, double[] sum, double[] sumSq, int width) {
    int step = DOUBLES.length();
    int whole = width - width % step;
    int quarter = rows / ROW_STREAMS;
    int gap = quarter * width;
    for (int r = 0; r < quarter; r++) {
      int row = from + r * width;
      int j = 0;
      for (; j < whole; j += step) {
        DoubleVector k = DoubleVector.fromArray(DOUBLES, shift, j);
        DoubleVector d0 = widened(x, row + j).sub(k);
        DoubleVector d1 = widened(x, row + gap + j).sub(k);
        DoubleVector d2 = widened(x, row + 2 * gap + j).sub(k);
        DoubleVector d3 = widened(x, row + 3 * gap + j).sub(k);
        DoubleVector.fromArray(DOUBLES, sum, j).add(d0).add(d1).add(d2).add(d3).intoArray(sum, j);
        DoubleVector.fromArray(DOUBLES, sumSq, j)
            .add(d0.mul(d0)).add(d1.mul(d1)).add(d2.mul(d2)).add(d3.mul(d3))
            .intoArray(sumSq, j);
      }
      for (; j < width; j++) {
        for (int s = 0; s < ROW_STREAMS; s++) {
          double d = x[row + s * gap + j] - shift[j];
          sum[j] += d;
          sumSq[j] += d * d;
        }
      }
    }
    for (int r = ROW_STREAMS * quarter; r < rows; r++) {
      addRow(x, from + r * width, shift, sum, sumSq, width, whole);
    }
  }

  /** One row, in the order of the rows after the streams. */
  private static void addRow(float[] x, int row, double[] shift, double[] sum, double[] sumSq, int width, int whole) {
    int step = DOUBLES.length();
    int j = 0;
    for (; j < whole; j += step) {
      DoubleVector d = widened(x, row + j).sub(DoubleVector.fromArray(DOUBLES, shift, j));
      DoubleVector.fromArray(DOUBLES, sum, j).add(d).intoArray(sum, j);
      DoubleVector.fromArray(DOUBLES, sumSq, j).add(d.mul(d)).intoArray(sumSq, j);
    }
    for (; j < width; j++) {
      double d = x[row + j] - shift[j];
      sum[j] += d;
      sumSq[j] += d * d;
    }
  }

  @Override
  public void addRuns(float[] x, int from, int runs, int stride, int length, double[] shift, double[] sum, double[] sumSq) {
    double[] runSum = new double[RUN_ACCUMULATORS];
    double[] runSq = new double[RUN_ACCUMULATORS];
    int whole = length - length % RUN_ACCUMULATORS;
    boolean twoVectors = DOUBLES.length() == 8;
    for (int c = 0; c < runs; c++) {
      int start = from + c * stride;
      if (twoVectors) {
        foldInTwoVectors(x, start, whole, shift[c], runSum, runSq);
      } else {
        foldInFourVectors(x, start, whole, shift[c], runSum, runSq);
      }
      addRunTail(x, start, shift[c], runSum, runSq, whole, length);
      WideningDeviations.addRunTo(runSum, runSq, c, sum, sumSq);
    }
  }

  /** The whole groups of a run into the accumulators, in two vectors of eight lanes each. */
  private static void foldInTwoVectors(float[] x, int start, int whole, double shift, double[] runSum, double[] runSq) {
    DoubleVector k = DoubleVector.broadcast(DOUBLES, shift);
    DoubleVector s0 = DoubleVector.zero(DOUBLES);
    DoubleVector s1 = s0;
    DoubleVector q0 = s0;
    DoubleVector q1 = s0;
    for (int i = start, end = start + whole; i < end; i += RUN_ACCUMULATORS) {
      DoubleVector d0 = widened(x, i).sub(k);
      DoubleVector d1 = widened(x, i + 8).sub(k);
      s0 = s0.add(d0);
      s1 = s1.add(d1);
      q0 = q0.add(d0.mul(d0));
      q1 = q1.add(d1.mul(d1));
    }
    s0.intoArray(runSum, 0);
    s1.intoArray(runSum, 8);
    q0.intoArray(runSq, 0);
    q1.intoArray(runSq, 8);
  }

  /** The whole groups of a run into the accumulators, in four vectors of four lanes each. */
  private static void foldInFourVectors(float[] x, int start, int whole, double shift, double[] runSum, double[] runSq) {
    DoubleVector k = DoubleVector.broadcast(DOUBLES, shift);
    DoubleVector s0 = DoubleVector.zero(DOUBLES);
    DoubleVector s1 = s0;
    DoubleVector s2 = s0;
    DoubleVector s3 = s0;
    DoubleVector q0 = s0;
    DoubleVector q1 = s0;
    DoubleVector q2 = s0;
    DoubleVector q3 = s0;
    for (int i = start, end = start + whole; i < end; i += RUN_ACCUMULATORS) {
      DoubleVector d0 = widened(x, i).sub(k);
      DoubleVector d1 = widened(x, i + 4).sub(k);
      DoubleVector d2 = widened(x, i + 8).sub(k);
      DoubleVector d3 = widened(x, i + 12).sub(k);
      s0 = s0.add(d0);
      s1 = s1.add(d1);
      s2 = s2.add(d2);
      s3 = s3.add(d3);
      q0 = q0.add(d0.mul(d0));
      q1 = q1.add(d1.mul(d1));
      q2 = q2.add(d2.mul(d2));
      q3 = q3.add(d3.mul(d3));
    }
    s0.intoArray(runSum, 0);
    s1.intoArray(runSum, 4);
    s2.intoArray(runSum, 8);
    s3.intoArray(runSum, 12);
    q0.intoArray(runSq, 0);
    q1.intoArray(runSq, 4);
    q2.intoArray(runSq, 8);
    q3.intoArray(runSq, 12);
  }

  /** The values of a run past its last whole group of accumulators, each to its own. */
  private static void addRunTail(float[] x, int start, double shift, double[] runSum, double[] runSq, int whole, int length) {
    for (int t = whole; t < length; t++) {
      double d = x[start + t] - shift;
      runSum[t - whole] += d;
      runSq[t - whole] += d * d;
    }
  }

  // The same loops on a buffer in native memory (ONNX Runtime's outputs, read in place): the
  // Vector API of Java 17 loads arrays and buffers through different methods, and one loop over
  // both would leave the JIT a call it cannot resolve to one of them.

  @Override
  public void addRows(ByteBuffer x, int from, int rows, double[] shift, double[] sum, double[] sumSq, int width) {
    int step = DOUBLES.length();
    int whole = width - width % step;
    int quarter = rows / ROW_STREAMS;
    int gap = quarter * width;
    for (int r = 0; r < quarter; r++) {
      int row = from + r * width;
      int j = 0;
      for (; j < whole; j += step) {
        DoubleVector k = DoubleVector.fromArray(DOUBLES, shift, j);
        DoubleVector d0 = widened(x, row + j).sub(k);
        DoubleVector d1 = widened(x, row + gap + j).sub(k);
        DoubleVector d2 = widened(x, row + 2 * gap + j).sub(k);
        DoubleVector d3 = widened(x, row + 3 * gap + j).sub(k);
        DoubleVector.fromArray(DOUBLES, sum, j).add(d0).add(d1).add(d2).add(d3).intoArray(sum, j);
        DoubleVector.fromArray(DOUBLES, sumSq, j)
            .add(d0.mul(d0)).add(d1.mul(d1)).add(d2.mul(d2)).add(d3.mul(d3))
            .intoArray(sumSq, j);
      }
      for (; j < width; j++) {
        for (int s = 0; s < ROW_STREAMS; s++) {
          double d = x.getFloat((row + s * gap + j) * Float.BYTES) - shift[j];
          sum[j] += d;
          sumSq[j] += d * d;
        }
      }
    }
    for (int r = ROW_STREAMS * quarter; r < rows; r++) {
      addRow(x, from + r * width, shift, sum, sumSq, width, whole);
    }
  }

  private static void addRow(ByteBuffer x, int row, double[] shift, double[] sum, double[] sumSq, int width, int whole) {
    int step = DOUBLES.length();
    int j = 0;
    for (; j < whole; j += step) {
      DoubleVector d = widened(x, row + j).sub(DoubleVector.fromArray(DOUBLES, shift, j));
      DoubleVector.fromArray(DOUBLES, sum, j).add(d).intoArray(sum, j);
      DoubleVector.fromArray(DOUBLES, sumSq, j).add(d.mul(d)).intoArray(sumSq, j);
    }
    for (; j < width; j++) {
      double d = x.getFloat((row + j) * Float.BYTES) - shift[j];
      sum[j] += d;
      sumSq[j] += d * d;
    }
  }

  @Override
  public void addRuns(ByteBuffer x, int from, int runs, int stride, int length, double[] shift, double[] sum, double[] sumSq) {
    double[] runSum = new double[RUN_ACCUMULATORS];
    double[] runSq = new double[RUN_ACCUMULATORS];
    int whole = length - length % RUN_ACCUMULATORS;
    boolean twoVectors = DOUBLES.length() == 8;
    for (int c = 0; c < runs; c++) {
      int start = from + c * stride;
      if (twoVectors) {
        foldInTwoVectors(x, start, whole, shift[c], runSum, runSq);
      } else {
        foldInFourVectors(x, start, whole, shift[c], runSum, runSq);
      }
      addRunTail(x, start, shift[c], runSum, runSq, whole, length);
      WideningDeviations.addRunTo(runSum, runSq, c, sum, sumSq);
    }
  }

  private static void foldInTwoVectors(ByteBuffer x, int start, int whole, double shift, double[] runSum, double[] runSq) {
    DoubleVector k = DoubleVector.broadcast(DOUBLES, shift);
    DoubleVector s0 = DoubleVector.zero(DOUBLES);
    DoubleVector s1 = s0;
    DoubleVector q0 = s0;
    DoubleVector q1 = s0;
    for (int i = start, end = start + whole; i < end; i += RUN_ACCUMULATORS) {
      DoubleVector d0 = widened(x, i).sub(k);
      DoubleVector d1 = widened(x, i + 8).sub(k);
      s0 = s0.add(d0);
      s1 = s1.add(d1);
      q0 = q0.add(d0.mul(d0));
      q1 = q1.add(d1.mul(d1));
    }
    s0.intoArray(runSum, 0);
    s1.intoArray(runSum, 8);
    q0.intoArray(runSq, 0);
    q1.intoArray(runSq, 8);
  }

  private static void foldInFourVectors(ByteBuffer x, int start, int whole, double shift, double[] runSum, double[] runSq) {
    DoubleVector k = DoubleVector.broadcast(DOUBLES, shift);
    DoubleVector s0 = DoubleVector.zero(DOUBLES);
    DoubleVector s1 = s0;
    DoubleVector s2 = s0;
    DoubleVector s3 = s0;
    DoubleVector q0 = s0;
    DoubleVector q1 = s0;
    DoubleVector q2 = s0;
    DoubleVector q3 = s0;
    for (int i = start, end = start + whole; i < end; i += RUN_ACCUMULATORS) {
      DoubleVector d0 = widened(x, i).sub(k);
      DoubleVector d1 = widened(x, i + 4).sub(k);
      DoubleVector d2 = widened(x, i + 8).sub(k);
      DoubleVector d3 = widened(x, i + 12).sub(k);
      s0 = s0.add(d0);
      s1 = s1.add(d1);
      s2 = s2.add(d2);
      s3 = s3.add(d3);
      q0 = q0.add(d0.mul(d0));
      q1 = q1.add(d1.mul(d1));
      q2 = q2.add(d2.mul(d2));
      q3 = q3.add(d3.mul(d3));
    }
    s0.intoArray(runSum, 0);
    s1.intoArray(runSum, 4);
    s2.intoArray(runSum, 8);
    s3.intoArray(runSum, 12);
    q0.intoArray(runSq, 0);
    q1.intoArray(runSq, 4);
    q2.intoArray(runSq, 8);
    q3.intoArray(runSq, 12);
  }

  private static void addRunTail(ByteBuffer x, int start, double shift, double[] runSum, double[] runSq, int whole, int length) {
    for (int t = whole; t < length; t++) {
      double d = x.getFloat((start + t) * Float.BYTES) - shift;
      runSum[t - whole] += d;
      runSq[t - whole] += d * d;
    }
  }

  private static DoubleVector widened(float[] x, int from) {
    return (DoubleVector) FloatVector.fromArray(FLOATS, x, from).convertShape(VectorOperators.F2D, DOUBLES, 0);
  }

  private static DoubleVector widened(ByteBuffer x, int from) {
    return (DoubleVector) FloatVector.fromByteBuffer(FLOATS, x, from * Float.BYTES, ByteOrder.nativeOrder())
        .convertShape(VectorOperators.F2D, DOUBLES, 0);
  }
}
