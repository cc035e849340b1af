package dev.bncheck.analysis;

import dev.bncheck.model.MomentumConvention;

/** The framework family whose fixes and conventions a finding speaks of. */
public enum Framework {
  PYTORCH,
  TENSORFLOW,
  UNKNOWN;

  static Framework of(MomentumConvention convention, String declaredFramework) {
    MomentumConvention effective = convention != null ? convention : MomentumConvention.impliedBy(declaredFramework);
    if (effective == null) {
      return UNKNOWN;
    }
    return effective == MomentumConvention.PYTORCH ? PYTORCH : TENSORFLOW;
  }

  /** Picks the fix text written for this framework. */
  public String pick(String tensorflow, String pytorch) {
    return switch (this) {
      case PYTORCH -> pytorch;
      case TENSORFLOW -> tensorflow;
      case UNKNOWN -> "TensorFlow/Keras: " + tensorflow + " PyTorch: " + pytorch;
    };
  }
}
