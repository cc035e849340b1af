package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Ends the process when one TensorFlow run outlives its time limit by more than a grace period.
 * TensorFlow stops a run at the limit between ops, but waits for an op already running: one
 * huge convolution in a model's init op held a run for an hour. TensorFlow's threads cannot be
 * interrupted, so the only way out is to end the process, with the one-line error and the exit
 * code of invalid input.
 */
final class RunWatchdog {

  /** Long enough for TensorFlow to stop a run between ops and report it itself. */
  static final Duration GRACE = Duration.ofSeconds(10);

  private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "bncheck-run-watchdog");
    t.setDaemon(true);
    return t;
  });

  private RunWatchdog() {}

  /** Runs {@code run}, ending the process if it lasts longer than {@code timeout} and the grace period. */
  static <T> T call(String location, String phase, Duration timeout, Supplier<T> run) {
    ScheduledFuture<?> end = TIMER.schedule(() -> {
      System.err.println("bncheck: error: " + location + ": " + phase + " ran longer than the time limit of "
          + TensorFlowRuntime.describe(timeout) + " and did not stop; bncheck ended it (raise the limit with"
          + " --timeout)");
      System.err.flush();
      Runtime.getRuntime().halt(InvalidInputException.EXIT_CODE);
    }, timeout.plus(GRACE).toMillis(), TimeUnit.MILLISECONDS);
    try {
      return run.get();
    } finally {
      end.cancel(false);
    }
  }
}
