package dev.bncheck.analysis;

import dev.bncheck.model.MomentumConvention;
import java.util.Locale;

/** The framework family whose fixes and conventions a finding speaks of. */
public enum Framework {
  PYTORCH,
  TENSORFLOW,
  UNKNOWN;

  static Framework of(MomentumConvention convention, String declaredFramework) {
    if (convention == MomentumConvention.PYTORCH) {
      return PYTORCH;
    }
    if (convention == MomentumConvention.KERAS) {
      return TENSORFLOW;
    }
    if (declaredFramework != null) {
      String f = declaredFramework.toLowerCase(Locale.ROOT);
      if (f.contains("torch")) {
        return PYTORCH;
      }
      if (f.contains("keras") || f.contains("tensorflow") || f.equals("tf")) {
        return TENSORFLOW;
      }
    }
    return UNKNOWN;
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
