package dev.bncheck.model;

/**
 * A BN computation found in the graph whose parameters could not be read, or that keeps no
 * running statistics to read; reported, never silently dropped.
 *
 * @param node the node and the functions it runs in; for a dump, where the layer stands in it
 * @param op the op or pattern, e.g. {@code FusedBatchNormV3}
 * @param reason what could not be resolved
 * @param trainingMode whether the node normalizes with the batch's own statistics
 */
public record UnresolvedLayer(String name, String node, String op, String reason, boolean trainingMode) {

  /**
   * The op of a layer that keeps no running statistics at all (PyTorch's
   * {@code track_running_stats=False}): with none to normalize with, it uses the batch's own at
   * inference as well. Its reason says why, in its framework's words.
   */
  public static final String WITHOUT_RUNNING_STATISTICS = "batch normalization without running statistics";

  /**
   * The reason a PyTorch layer built with {@code track_running_stats=False} keeps none, as dumps
   * record it (docs/dump-format.md) and whole-module checkpoints show it.
   */
  public static final String TRACK_RUNNING_STATS_FALSE = "track_running_stats=False";

  /** A layer that keeps no running statistics, so normalizes with each batch's own. */
  public static UnresolvedLayer withoutRunningStatistics(String name, String location, String reason) {
    return new UnresolvedLayer(name, location, WITHOUT_RUNNING_STATISTICS, reason, true);
  }

  /** Whether the layer keeps no running statistics at all, rather than being run in training mode. */
  public boolean keepsNoRunningStatistics() {
    return op.equals(WITHOUT_RUNNING_STATISTICS);
  }
}
