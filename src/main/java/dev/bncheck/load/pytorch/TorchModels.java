package dev.bncheck.load.pytorch;

import dev.bncheck.load.AssumedConventions;
import dev.bncheck.model.BnModel;
import java.nio.file.Path;
import java.util.List;

/** The neutral model of a checkpoint's weights, with the report's account of what was assumed. */
final class TorchModels {

  static final String FRAMEWORK = "pytorch";

  private TorchModels() {}

  /** @param kind the file's kind for the report, e.g. {@code torch.save checkpoint} */
  static BnModel of(Path input, String kind, CheckpointWeights weights, AssumedConventions defaults) {
    String file = input.toString();
    TorchBnLayers.Found found = TorchBnLayers.find(file, weights, defaults);
    String format = kind + ", " + weights.where()
        + (found.unrecorded().isEmpty() ? "" : "; " + defaults.describe(found.unrecorded(), found.layers().size()))
        + otherClasses(found.otherClasses());
    return new BnModel(file, format, FRAMEWORK, weights.modelClass(), found.layers(), found.withoutRunningStatistics());
  }

  /**
   * A subclass pickles under its own name alone, and an InstanceNorm subclass that tracks running
   * statistics holds exactly what a BN layer holds: the report says which layers were read as BN
   * on that ground, so that a user can tell them apart.
   */
  private static String otherClasses(List<String> layers) {
    if (layers.isEmpty()) {
      return "";
    }
    int shown = Math.min(layers.size(), 4);
    return "; read as BN by their running statistics though their class is none of torch.nn's BatchNorm classes"
        + " (an InstanceNorm subclass would hold the same): " + String.join(", ", layers.subList(0, shown))
        + (layers.size() > shown ? " and " + (layers.size() - shown) + " more" : "");
  }
}
