package dev.bncheck.load.pytorch;

import dev.bncheck.load.AssumedConventions;
import dev.bncheck.model.BnModel;
import java.nio.file.Path;

/** The neutral model of a checkpoint's weights, with the report's account of what was assumed. */
final class TorchModels {

  static final String FRAMEWORK = "pytorch";

  private TorchModels() {}

  /** @param kind the file's kind for the report, e.g. {@code torch.save checkpoint} */
  static BnModel of(Path input, String kind, CheckpointWeights weights, AssumedConventions defaults) {
    String file = input.toString();
    TorchBnLayers.Found found = TorchBnLayers.find(file, weights, defaults);
    String format = kind + ", " + weights.where()
        + (found.unrecorded().isEmpty() ? "" : "; " + defaults.describe(found.unrecorded(), found.layers().size()));
    return new BnModel(file, format, FRAMEWORK, weights.modelClass(), found.layers());
  }
}
