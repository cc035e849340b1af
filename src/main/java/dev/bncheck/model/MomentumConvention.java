package dev.bncheck.model;

/**
 * How a framework states the momentum of its moving averages. Both describe the same
 * exponential average; they differ in which term the number multiplies.
 */
public enum MomentumConvention {
  /** Keras and TensorFlow: {@code new = m * old + (1 - m) * batch}; m is a decay near 1. */
  KERAS("keras"),
  /** PyTorch: {@code new = (1 - m) * old + m * batch}; m is an update weight near 0. */
  PYTORCH("pytorch");

  private final String jsonName;

  MomentumConvention(String jsonName) {
    this.jsonName = jsonName;
  }

  public String jsonName() {
    return jsonName;
  }

  /** The fraction of the old average kept by one update, whatever the convention. */
  public double decay(double momentum) {
    return this == KERAS ? momentum : 1.0 - momentum;
  }

  /** The convention a framework's name implies ({@code torch...}, {@code keras}, {@code tensorflow}, {@code tf}), or null. */
  public static MomentumConvention impliedBy(String framework) {
    if (framework == null) {
      return null;
    }
    String f = framework.toLowerCase(java.util.Locale.ROOT);
    if (f.contains("torch")) {
      return PYTORCH;
    }
    if (f.contains("keras") || f.contains("tensorflow") || f.equals("tf")) {
      return KERAS;
    }
    return null;
  }

  public static MomentumConvention fromJsonName(String name) {
    for (MomentumConvention c : values()) {
      if (c.jsonName.equals(name)) {
        return c;
      }
    }
    return null;
  }
}
