package dev.bncheck.engine;

/**
 * How far bncheck's reimplementation of a layer is from the framework's own output of the same
 * node on the same batches. Anything beyond the round-off of the framework's format is a bug in bncheck.
 *
 * @param trainingMode whether the compared node runs in training mode
 * @param maxAbsDifference the largest absolute difference over all compared values
 * @param outputRms the RMS of the framework's output, the scale the difference is judged against
 * @param values how many values were compared
 * @param maxBeyondRoundOff the largest difference beyond what arithmetic in the framework's format
 *     on each value's own terms can cause ({@link #ROUNDINGS})
 * @param precision the format the framework computed its output in
 */
public record SelfCheck(boolean trainingMode, double maxAbsDifference, double outputRms, long values,
    double maxBeyondRoundOff, dev.bncheck.model.Precision precision) {

  /** Differences beyond round-off up to this fraction of the output's RMS pass. */
  public static final double TOLERANCE = 1e-4;

  /**
   * The round-off a framework's output may carry, in units of its format's unit round-off (2^-24
   * for float32, 2^-11 for float16) per unit of the magnitude of the terms it adds
   * ({@code |x * scale|} and {@code |shift|}): a few roundings each, with room.
   * A value far from its channel's mean in a channel of tiny variance (a constant feature of 2026,
   * scaled by 1/sqrt(epsilon)) cancels to a small output whose float32 error is large beside it:
   * that was reported as an internal error on healthy models.
   */
  public static final double ROUNDINGS = 16;

  public double relativeDifference() {
    return maxAbsDifference / Math.max(outputRms, Double.MIN_NORMAL);
  }

  public boolean passed() {
    return maxBeyondRoundOff / Math.max(outputRms, Double.MIN_NORMAL) <= TOLERANCE;
  }

  SelfCheck merge(SelfCheck other) {
    long n = values + other.values;
    double rms = n == 0 ? 0.0
        : Math.sqrt((outputRms * outputRms * values + other.outputRms * other.outputRms * other.values) / n);
    return new SelfCheck(trainingMode, Math.max(maxAbsDifference, other.maxAbsDifference), rms, n,
        Math.max(maxBeyondRoundOff, other.maxBeyondRoundOff), precision);
  }
}
