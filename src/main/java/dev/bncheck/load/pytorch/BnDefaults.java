package dev.bncheck.load.pytorch;

import dev.bncheck.model.Numbers;
import java.util.Locale;

/**
 * The epsilon and momentum given to BN layers whose checkpoint does not record them: a state_dict
 * holds tensors only, while {@code eps} and {@code momentum} are constructor arguments.
 *
 * @param source where the values come from, for the report
 */
record BnDefaults(double epsilon, double momentum, String source) {

  /** {@code torch.nn.BatchNorm2d}'s own defaults. */
  static final BnDefaults PYTORCH = new BnDefaults(1e-5, 0.1, "PyTorch's defaults");

  /** How the report states the assumption, for {@code layers} of all the layers. */
  String assumption(int layers, int of) {
    return String.format(Locale.ROOT, "epsilon %s and momentum %s assumed%s (%s; a state_dict does not record them)",
        Numbers.brief(epsilon), Numbers.brief(momentum), layers == of ? "" : " for " + layers + " of " + of + " BN layers", source);
  }
}
