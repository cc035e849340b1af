package dev.bncheck.model;

/**
 * One model output of a batch, compared with the same samples run alone (BN005), whatever
 * backend ran them: the largest difference, the sample it is in, and the output's scale, for the
 * sink.
 */
public final class BatchSizeComparison {

  /** Differences up to this fraction of the output's RMS are float32 round-off. */
  public static final double ROUND_OFF = 1e-3;

  private final Tensor batched;
  private final int batchSize;
  /** The RMS of the batch's finite values: the scale a difference is measured against. */
  private final double rms;
  private double max;
  private int worst;
  private int compared;
  private boolean comparable = true;

  /**
   * @param batched the output on the whole batch
   * @param batchSize the samples in that batch: the output holds one row of equal size for each
   */
  public BatchSizeComparison(Tensor batched, int batchSize) {
    this.batched = batched;
    this.batchSize = batchSize;
    this.rms = rms(batched);
  }

  /** The output of sample {@code sample} of the batch run alone; null when the run gave none. */
  public void addAlone(int sample, Tensor alone) {
    if (alone == null || batched.shape().length == 0 || (long) alone.size() * batchSize != batched.size()) {
      // not one row per sample after all (an unknown shape that turned out otherwise): nothing to compare
      comparable = false;
      return;
    }
    compared++;
    int row = alone.size();
    for (int i = 0; i < row; i++) {
      double a = alone.get(i);
      double b = batched.get(sample * row + i);
      // a sample whose own input is NaN gives NaN both ways: that is no dependence on the batch
      double d = a == b || (Double.isNaN(a) && Double.isNaN(b)) ? 0 : Math.abs(a - b);
      if (d > max || Double.isNaN(d)) {
        max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
        worst = sample;
      }
    }
  }

  /** Gives the comparison to the sink, unless the output turned out to have no row per sample. */
  public void report(String output, CalibrationSink sink) {
    if (!comparable) {
      return;
    }
    sink.batchSizeConsistency(output, batchSize, compared, max, rms, worst);
  }

  /**
   * Whether samples were compared and none differed beyond round-off: the output shows no
   * dependence on the batch.
   */
  public boolean independent() {
    return comparable && compared > 0 && withinRoundOff(max, rms);
  }

  /** The largest difference as a fraction of the output's RMS. */
  public static double relativeDifference(double maxAbsDifference, double outputRms) {
    return maxAbsDifference / Math.max(outputRms, Double.MIN_NORMAL);
  }

  /** Whether a difference of {@code maxAbsDifference} in an output of this RMS is float32 round-off. */
  public static boolean withinRoundOff(double maxAbsDifference, double outputRms) {
    return relativeDifference(maxAbsDifference, outputRms) <= ROUND_OFF;
  }

  private static double rms(Tensor batched) {
    double sumSq = 0;
    int finite = 0;
    for (int i = 0; i < batched.size(); i++) {
      double v = batched.get(i);
      if (Double.isFinite(v)) {
        sumSq += v * v;
        finite++;
      }
    }
    return Math.sqrt(sumSq / Math.max(1, finite));
  }
}
