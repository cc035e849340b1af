package dev.bncheck.load.tensorflow;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Runs graph work on a thread with a large stack. Walking a graph back from a tensor recurses
 * once per node on the path, and the deepest networks have paths of thousands of nodes: more
 * than a default thread stack holds. The stack is reserved address space, committed only as used.
 */
final class LargeStack {

  private static final long STACK_BYTES = 1L << 30;

  private LargeStack() {}

  static <T> T call(Supplier<T> work) {
    AtomicReference<T> result = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread thread = new Thread(null, () -> {
      try {
        result.set(work.get());
      } catch (Throwable t) {
        failure.set(t);
      }
    }, "bncheck-graph", STACK_BYTES);
    thread.start();
    try {
      thread.join();
    } catch (InterruptedException e) {
      thread.interrupt();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading the model", e);
    }
    Throwable t = failure.get();
    if (t instanceof RuntimeException re) {
      throw re;
    }
    if (t instanceof Error error) {
      throw error;
    }
    if (t != null) {
      throw new IllegalStateException(t);
    }
    return result.get();
  }
}
