package dev.bncheck.engine;

/**
 * How far bncheck's reimplementation of a layer is from the framework's own output of the same
 * node on the same batches. Anything beyond float32 round-off is a bug in bncheck.
 *
 * @param trainingMode whether the compared node runs in training mode
 * @param maxAbsDifference the largest absolute difference over all compared values
 * @param outputRms the RMS of the framework's output, the scale the difference is judged against
 * @param values how many values were compared
 */
public record SelfCheck(boolean trainingMode, double maxAbsDifference, double outputRms, long values) {

  /** Differences up to this fraction of the output's RMS are float32 round-off. */
  public static final double TOLERANCE = 1e-4;

  public double relativeDifference() {
    return maxAbsDifference / Math.max(outputRms, Double.MIN_NORMAL);
  }

  public boolean passed() {
    return relativeDifference() <= TOLERANCE;
  }

  SelfCheck merge(SelfCheck other) {
    long n = values + other.values;
    double rms = n == 0 ? 0.0
        : Math.sqrt((outputRms * outputRms * values + other.outputRms * other.outputRms * other.values) / n);
    return new SelfCheck(trainingMode, Math.max(maxAbsDifference, other.maxAbsDifference), rms, n);
  }
}
