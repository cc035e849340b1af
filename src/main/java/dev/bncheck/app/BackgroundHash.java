package dev.bncheck.app;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * An input's hash, computed on a thread of its own beside the run: SHA-256 reads about 250 MB/s
 * here, over a second for a SavedModel and its data (docs/performance.md).
 */
final class BackgroundHash {

  private final CompletableFuture<String> hash;

  private BackgroundHash(CompletableFuture<String> hash) {
    this.hash = hash;
  }

  /**
   * Whatever ends the hash's thread ends its future, so that waiting for it cannot hang: an
   * OutOfMemoryError that escapes even the future's own handling (the main thread ran the heap
   * dry) reaches the thread's handler, which the JVM would otherwise report with a line of its
   * own beside bncheck's one-line error.
   */
  static BackgroundHash of(Supplier<String> hash) {
    CompletableFuture<String> future = new CompletableFuture<>();
    Thread thread = new Thread(() -> future.complete(hash.get()), "bncheck-sha256");
    thread.setUncaughtExceptionHandler((t, e) -> {
      try {
        future.completeExceptionally(e);
      } catch (OutOfMemoryError stillNoHeap) {
        // the main thread, out of heap too, reports it and ends the run; this thread has nothing to add
      }
    });
    thread.setDaemon(true);
    thread.start();
    return new BackgroundHash(future);
  }

  /** The hash, once computed; an input that could not be read fails as it would have on this thread. */
  String get() {
    try {
      return hash.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }
}
