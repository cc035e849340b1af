package dev.bncheck.bench;

import dev.bncheck.load.array.SampleOrder;
import java.util.Arrays;
import java.util.List;

/**
 * The measuring loop of the dump and forward-pass benchmarks, as in {@link MomentsBench}: every
 * round runs each method once, in an order of its own, and a ratio is the median over rounds of the
 * ratio within a round.
 */
final class Rounds {

  /** One thing measured; its result is kept so that the JIT cannot drop the work. */
  interface Work {
    double run() throws Exception;
  }

  record Method(String name, Work work) {}

  private static volatile double sink;

  private Rounds() {}

  /** Seconds taken by each method in each round. */
  static double[][] seconds(List<Method> methods, int rounds, int warmup) throws Exception {
    int m = methods.size();
    double[][] seconds = new double[m][rounds];
    for (int round = -warmup; round < rounds; round++) {
      int[] order = order(m, round);
      for (int k = 0; k < m; k++) {
        int i = order[k];
        long start = System.nanoTime();
        double kept = methods.get(i).work().run();
        long elapsed = System.nanoTime() - start;
        sink += kept;
        if (round >= 0) {
          seconds[i][round] = elapsed / 1e9;
        }
      }
    }
    return seconds;
  }

  /**
   * The methods of one round in an order shuffled with the round as seed. A rotation of a fixed
   * order would leave every method after the same one in every round, and a method after
   * TensorFlow, whose pool threads may still spin after a run, slower in all of them.
   */
  static int[] order(int methods, int round) {
    return SampleOrder.permutation(methods, round);
  }

  static double medianRatio(double[] a, double[] b) {
    double[] ratio = new double[a.length];
    for (int r = 0; r < a.length; r++) {
      ratio[r] = a[r] / b[r];
    }
    Arrays.sort(ratio);
    return quantile(ratio, 0.5);
  }

  static double quantile(double[] values, double q) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    double at = q * (sorted.length - 1);
    int below = (int) Math.floor(at);
    int above = Math.min(sorted.length - 1, below + 1);
    return sorted[below] + (at - below) * (sorted[above] - sorted[below]);
  }
}
