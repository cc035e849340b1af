package dev.bncheck.engine;

import dev.bncheck.model.BatchSizeComparison;

/**
 * How much one model output changes when samples are run alone instead of in a batch. An
 * inference graph computes every sample independently, so the difference is round-off; a graph
 * that normalizes with batch statistics does not.
 *
 * @param output the output's name (the signature's key)
 * @param batchSize the size of the batch the samples were first run in
 * @param samplesCompared how many samples were also run alone
 * @param maxAbsDifference the largest difference between a sample's batched and single output
 * @param outputRms the RMS of the batched output, the scale the difference is judged against
 * @param worstSample the position in the batch of the sample that differs most
 */
public record BatchSizeConsistency(
    String output, int batchSize, int samplesCompared, double maxAbsDifference, double outputRms, int worstSample) {

  /** The largest difference as a fraction of the output's RMS. */
  public double relativeDifference() {
    return BatchSizeComparison.relativeDifference(maxAbsDifference, outputRms);
  }

  /** Whether the difference is float32 round-off ({@link BatchSizeComparison#ROUND_OFF}). */
  public boolean consistent() {
    return BatchSizeComparison.withinRoundOff(maxAbsDifference, outputRms);
  }
}
