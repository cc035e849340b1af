package dev.bncheck.engine;

/**
 * How far bncheck's reimplementation of a layer is from the framework's own output of the same
 * node on the same batches. Anything beyond float32 round-off is a bug in bncheck.
 *
 * @param trainingMode whether the compared node runs in training mode
 * @param maxAbsDifference the largest absolute difference over all compared values
 * @param outputRms the RMS of the framework's output, the scale the difference is judged against
 * @param values how many values were compared
 * @param maxBeyondRoundOff the largest difference beyond what float32 arithmetic on each value's
 *     own terms can cause ({@link #ROUND_OFF})
 */
public record SelfCheck(boolean trainingMode, double maxAbsDifference, double outputRms, long values,
    double maxBeyondRoundOff) {

  /** Differences beyond round-off up to this fraction of the output's RMS pass. */
  public static final double TOLERANCE = 1e-4;

  /**
   * The round-off a framework's float32 output may carry, per unit of the magnitude of the terms
   * it adds ({@code |x * scale|} and {@code |shift|}): a few roundings of 2^-24 each, with room.
   * A value far from its channel's mean in a channel of tiny variance (a constant feature of 2026,
   * scaled by 1/sqrt(epsilon)) cancels to a small output whose float32 error is large beside it:
   * that was reported as an internal error on healthy models.
   */
  public static final double ROUND_OFF = 16 * 0x1p-24;

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
        Math.max(maxBeyondRoundOff, other.maxBeyondRoundOff));
  }
}
