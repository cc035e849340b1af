package dev.bncheck.cli;

import dev.bncheck.load.LoadOptions;
import picocli.CommandLine.Option;

/** How to read the model, for the kinds that need it (SavedModels). */
public final class ModelOptions {

  @Option(names = "--tag-set", paramLabel = "TAGS", defaultValue = "serve",
      description = "SavedModel: the meta graph's tags, comma-separated (default: ${DEFAULT-VALUE}).")
  String tagSet;

  @Option(names = "--signature", paramLabel = "KEY", defaultValue = "serving_default",
      description = "SavedModel: the signature whose graph is checked (default: ${DEFAULT-VALUE}).")
  String signature;

  LoadOptions toLoadOptions() {
    return new LoadOptions(tagSet, signature, java.util.List.of(), LoadOptions.DEFAULTS.batchSize(),
        LoadOptions.DEFAULTS.maxSamples());
  }
}
