package dev.bncheck.analysis;

/** What a finding is about: one analysed layer, a layer whose parameters could not be read, or the model as a whole. */
public enum Subject {
  /** A BN layer of the report's layer table. */
  LAYER("layer"),
  /** A BN layer found but not analysed (its parameters could not be read): BN002 in training mode. */
  UNRESOLVED_LAYER("unresolved_layer"),
  /** The model: BN005 on a signature output, BN011 on the calibration data. */
  MODEL("model");

  private final String label;

  Subject(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }
}
