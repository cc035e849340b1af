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

  static BackgroundHash of(Supplier<String> hash) {
    return new BackgroundHash(CompletableFuture.supplyAsync(hash, task -> {
      Thread thread = new Thread(task, "bncheck-sha256");
      thread.setDaemon(true);
      thread.start();
    }));
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
