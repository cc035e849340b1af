package dev.bncheck.analysis;

import dev.bncheck.analysis.CheckDeclaration.DataNeed;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.MomentumConvention;
import dev.bncheck.model.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * BN009: an epsilon or momentum that does not fit the framework's own convention, the trace of a
 * value carried over from another framework in a conversion or a port.
 */
@Declares(code = "BN009",
    title = "epsilon or momentum does not fit the framework's convention",
    data = DataNeed.NONE)
public final class ConventionMismatch implements Check {

  static final double PYTORCH_EPSILON = 1e-5;
  static final double KERAS_EPSILON = 1e-3;

  @Override
  public Optional<Finding> check(LayerContext context) {
    BnLayer layer = context.layer();
    List<String> problems = new ArrayList<>();
    List<Evidence> evidence = new ArrayList<>();
    Severity severity = Severity.INFO;
    if (layer.momentum().isPresent()) {
      double m = layer.momentum().getAsDouble();
      MomentumConvention convention = layer.momentumConvention();
      String stated = "momentum " + Numbers.brief(m) + " (" + convention.jsonName() + " convention)";
      if (!(m >= 0 && m <= 1)) {
        problems.add(stated + " is outside [0, 1]");
        severity = Severity.WARNING;
      } else if (convention.decay(m) == 1.0) {
        problems.add(stated + " keeps the whole old average: the statistics can never change");
        severity = Severity.WARNING;
      } else if (convention == MomentumConvention.PYTORCH && m > 0.5) {
        problems.add(stated + " keeps only " + Numbers.brief(100 * (1 - m))
            + "% of the running average per step; it looks like a Keras/TensorFlow decay,"
            + " which PyTorch writes as " + Numbers.brief(1 - m));
        severity = Severity.WARNING;
      } else if (convention == MomentumConvention.KERAS && m < 0.5) {
        problems.add(stated + " keeps only " + Numbers.brief(100 * m)
            + "% of the moving average per step; it looks like a PyTorch momentum,"
            + " which Keras/TensorFlow write as " + Numbers.brief(1 - m));
        severity = Severity.WARNING;
      }
      if (!problems.isEmpty()) {
        evidence.add(new Evidence("momentum", m));
        evidence.add(new Evidence("momentum_convention", convention.jsonName()));
      }
    }
    double eps = layer.epsilon();
    Framework framework = context.framework();
    if (eps == 0) {
      problems.add("epsilon is 0: a channel with zero variance divides by zero");
      severity = Severity.WARNING;
      evidence.add(new Evidence("epsilon", eps));
    } else if (otherFrameworksDefault(framework, eps)) {
      problems.add((framework == Framework.PYTORCH
          ? "epsilon 0.001 is the Keras/TensorFlow default, PyTorch's is 1e-05;"
          : "epsilon 1e-05 is the PyTorch default, Keras/TensorFlow's is 0.001;")
          + " check that a conversion kept the epsilon the model was trained with");
      evidence.add(new Evidence("epsilon", eps));
    }
    if (problems.isEmpty()) {
      return Optional.empty();
    }
    String fix = framework.pick(
        "Keras/TF momentum is the decay of the old average (0.99 by default, 0.9 for short runs);"
            + " a PyTorch momentum m becomes 1 - m. Keep the epsilon the model was trained with.",
        "PyTorch momentum is the weight of the new batch (0.1 by default); a Keras/TF momentum"
            + " (decay) d becomes 1 - d. Keep the epsilon the model was trained with.");
    return Optional.of(new Finding(code(), severity, context.index(), layer.name(), String.join("; ", problems),
        evidence, fix));
  }

  /** Whether {@code eps} is the other framework's default: the trace of a conversion (BN009, BN013). */
  static boolean otherFrameworksDefault(Framework framework, double eps) {
    return (framework == Framework.PYTORCH && eps == KERAS_EPSILON)
        || (framework == Framework.TENSORFLOW && eps == PYTORCH_EPSILON);
  }
}
