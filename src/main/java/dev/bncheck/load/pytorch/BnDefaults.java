package dev.bncheck.load.pytorch;

import dev.bncheck.load.LoadOptions;
import dev.bncheck.model.Numbers;
import java.util.OptionalDouble;

/**
 * The epsilon and momentum given to BN layers whose checkpoint does not record them: a state_dict
 * holds tensors only, while {@code eps} and {@code momentum} are constructor arguments. The
 * user's values ({@code --epsilon}, {@code --momentum}) win over PyTorch's defaults.
 *
 * @param epsilonSource where the epsilon comes from, for the report; likewise {@code momentumSource}
 */
record BnDefaults(double epsilon, String epsilonSource, double momentum, String momentumSource) {

  /** {@code torch.nn.BatchNorm2d}'s own defaults. */
  static final double PYTORCH_EPSILON = 1e-5;
  static final double PYTORCH_MOMENTUM = 0.1;
  private static final String PYTORCH = "PyTorch's default";

  static BnDefaults of(LoadOptions options) {
    OptionalDouble e = options.assumedEpsilon();
    OptionalDouble m = options.assumedMomentum();
    return new BnDefaults(e.orElse(PYTORCH_EPSILON), e.isPresent() ? "--epsilon" : PYTORCH,
        m.orElse(PYTORCH_MOMENTUM), m.isPresent() ? "--momentum" : PYTORCH);
  }

  /** How the report states the assumption, for {@code layers} of all {@code of} layers. */
  String assumption(int layers, int of) {
    return "epsilon " + Numbers.brief(epsilon) + " (" + epsilonSource + ") and momentum " + Numbers.brief(momentum)
        + " (" + momentumSource + ") assumed" + (layers == of ? "" : " for " + layers + " of " + of + " BN layers")
        + ": the file does not record them";
  }
}
