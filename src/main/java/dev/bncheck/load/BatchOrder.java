package dev.bncheck.load;

/** The order in which calibration samples are formed into batches. */
public enum BatchOrder {
  /**
   * A fixed pseudo-random order: each batch is then a sample of the whole, and batch statistics of
   * a file sorted by class do not pass for the population's.
   */
  SHUFFLED,
  /** The file's order. */
  FILE
}
