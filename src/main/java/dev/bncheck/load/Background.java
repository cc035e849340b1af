package dev.bncheck.load;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * Work done beside a model's loading, on a daemon thread of its own (a process whose model fails
 * to load does not wait for it), and its result, or what stopped it, where it is needed.
 */
public final class Background {

  private Background() {}

  /** Starts {@code task} on a new daemon thread named {@code name}. */
  public static <T> CompletableFuture<T> start(String name, Supplier<T> task) {
    return CompletableFuture.supplyAsync(task, runnable -> {
      Thread t = new Thread(runnable, name);
      t.setDaemon(true);
      t.start();
    });
  }

  /** What a background task made, or what stopped it, as it would have been thrown here. */
  public static <T> T joined(CompletableFuture<T> task) {
    try {
      return task.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw e;
    }
  }
}
