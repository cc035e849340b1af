package dev.bncheck.analysis;

import java.util.List;

/**
 * One finding code about the model as a whole (its outputs, its calibration data) rather than one
 * layer. Declared once, as a layer's {@link Check} is; it runs after the layer checks and sees
 * their findings.
 */
public interface ModelCheck {

  /** What the check's class declares with {@link Declares}. */
  default CheckDeclaration declaration() {
    return CheckDeclaration.of(getClass());
  }

  /** The findings on the model, none when the check does not fire. */
  List<Finding> check(ModelContext context);

  default String code() {
    return declaration().code();
  }
}
