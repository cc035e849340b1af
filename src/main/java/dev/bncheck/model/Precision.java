package dev.bncheck.model;

/**
 * The floating-point format a framework computed a tensor in, for judging how far its values may
 * be from exact arithmetic: each rounding errs by up to the unit round-off times the value.
 */
public enum Precision {
  FLOAT32("float32", 0x1p-24),
  FLOAT16("float16", 0x1p-11),
  BFLOAT16("bfloat16", 0x1p-8);

  private final String label;
  private final double unitRoundOff;

  Precision(String label, double unitRoundOff) {
    this.label = label;
    this.unitRoundOff = unitRoundOff;
  }

  public String label() {
    return label;
  }

  public double unitRoundOff() {
    return unitRoundOff;
  }
}
