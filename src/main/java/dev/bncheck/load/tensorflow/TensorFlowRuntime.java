package dev.bncheck.load.tensorflow;

import dev.bncheck.load.Background;
import dev.bncheck.load.InvalidInputException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.TensorFlow;
import org.tensorflow.exceptions.TFResourceExhaustedException;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;

/**
 * The one place bncheck starts TensorFlow's native runtime: only for TensorFlow inputs, so runs
 * on JSON dumps never load it.
 */
final class TensorFlowRuntime {

  private TensorFlowRuntime() {}

  /**
   * TensorFlow's native library, loading on a thread of its own from the first use of this class
   * (0.33 s on ResNet-50's check, beside the 0.55 s of parsing its {@code saved_model.pb} in
   * Java). Loading the library runs nothing of the model.
   */
  private static final class Natives {
    static final CompletableFuture<String> LOADED = Background.start("bncheck-tensorflow-natives",
        TensorFlow::version);
  }

  /** Starts loading TensorFlow's native library, for a model that is going to run. */
  static void startLoadingNatives() {
    Natives.LOADED.isDone();
  }

  /**
   * Waits for TensorFlow's native library; a library that cannot be loaded fails here with its
   * own error, as it would have on this thread.
   */
  static void awaitNatives() {
    Background.joined(Natives.LOADED);
  }

  /**
   * Sessions run without Grappler's graph rewrites. bncheck runs each graph for a few batches,
   * with fetches that change after the first: rewriting the graph for each set of fetches cost
   * ResNet-50 3 s and saved nothing per batch (docs/performance.md). Rewrites do not change what
   * the graph computes, and the BN outputs are still compared with TensorFlow's own.
   *
   * <p>Ops run one at a time, each on every core (TensorFlow's intra-op threads). With an op per
   * core at once, the reductions bncheck adds beside each BN input waited behind the model's next
   * layers and kept those inputs alive: ResNet-50's batches of 32 took 165 MB more at their peak,
   * and no less time (docs/performance.md).
   */
  private static ConfigProto config(Duration timeout) {
    return ConfigProto.newBuilder()
        .setGraphOptions(GraphOptions.newBuilder()
            .setRewriteOptions(RewriterConfig.newBuilder().setDisableMetaOptimizer(true)))
        .setInterOpParallelismThreads(1)
        .setOperationTimeoutInMs(timeout.toMillis())
        .build();
  }

  /**
   * Loads a SavedModel: this restores its variables from its checkpoint and runs its init op,
   * each run limited to {@code timeout}.
   */
  static SavedModelBundle load(Path directory, List<String> tags, Duration timeout) {
    awaitNatives();
    long start = System.nanoTime();
    try {
      return RunWatchdog.call(directory.toString(), "loading it (the restore and init ops)", timeout,
          () -> SavedModelBundle.loader(directory.toString()).withTags(tags.toArray(new String[0]))
              .withConfigProto(config(timeout)).load());
    } catch (TensorFlowException | IllegalArgumentException | UnsupportedOperationException e) {
      if (timedOut(start, timeout)) {
        throw new InvalidInputException(directory.toString(), "", "loading it (the restore and init ops) ran longer"
            + " than the time limit of " + describe(timeout) + " and was stopped; raise it with --timeout", e);
      }
      if (e instanceof TFResourceExhaustedException) {
        throw new InvalidInputException(directory.toString(), "",
            "TensorFlow ran out of memory loading it: " + firstLine(e.getMessage()), e);
      }
      throw new InvalidInputException(directory.toString(), "",
          "TensorFlow cannot load it (missing or corrupt variables?): " + firstLine(e.getMessage()), e);
    }
  }

  /**
   * A session for a graph built or imported in Java (frozen graphs, tests' models), each run
   * limited to {@code timeout}. It never runs the graph's initializers by itself: what it runs
   * is only what its caller fetches ({@link CheckedSession}).
   */
  static Session session(Graph graph, Duration timeout) {
    awaitNatives();
    return new Session(graph, false, config(timeout));
  }

  /**
   * A TensorFlow error as one type: TensorFlow Java throws most as {@link TensorFlowException}, but
   * an invalid argument as an {@link IllegalArgumentException} and an unimplemented op as an
   * {@link UnsupportedOperationException} (an invalid model once ended as an internal error for
   * that). Returns null for an exception that is not TensorFlow's.
   */
  static TensorFlowException asTensorFlowError(RuntimeException e) {
    if (e instanceof TensorFlowException tf) {
      return tf;
    }
    return e.getClass().getPackageName().equals("org.tensorflow.exceptions")
        ? new TensorFlowException(e.getMessage(), e) : null;
  }

  /**
   * Runs one TensorFlow run for {@code phase} within the time limit: ended by the watchdog if it
   * outlives it, an input error naming the phase if TensorFlow stopped it there, and any other
   * TensorFlow error thrown as a {@link TensorFlowException}.
   */
  static <T> T timedRun(String location, String phase, Duration timeout, Supplier<T> run) {
    long start = System.nanoTime();
    try {
      return RunWatchdog.call(location, phase, timeout, () -> {
        try {
          return run.get();
        } catch (RuntimeException thrown) {
          TensorFlowException tf = asTensorFlowError(thrown);
          throw tf == null ? thrown : tf;
        }
      });
    } catch (TensorFlowException e) {
      if (timedOut(start, timeout)) {
        throw new InvalidInputException(location, "", phase + " ran longer than the time limit of "
            + describe(timeout) + " for one run and was stopped; raise it with --timeout", e);
      }
      throw e;
    }
  }

  /** Whether a run that failed after starting at {@code startNanos} failed because it reached the time limit. */
  static boolean timedOut(long startNanos, Duration timeout) {
    return System.nanoTime() - startNanos >= timeout.toNanos();
  }

  /** A time limit as the user gave it: {@code 600 s}. */
  static String describe(Duration timeout) {
    return timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms";
  }

  static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    String trimmed = message.strip();
    int nl = trimmed.indexOf('\n');
    return nl < 0 ? trimmed : trimmed.substring(0, nl);
  }
}
