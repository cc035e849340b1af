package dev.bncheck.load;

import java.util.List;

/**
 * How to read a model, for the kinds that need more than a path.
 *
 * @param tagSet the SavedModel meta graph's tags, comma-separated (like saved_model_cli)
 * @param signature the SavedModel signature whose graph counts
 * @param inputs calibration data for the model's inputs: {@code FILE} or {@code NAME=FILE}
 *     specs, for models that bncheck runs; empty for none
 * @param batchSize how many samples to run at once
 * @param maxSamples at most this many calibration samples are used
 * @param syntheticSamples when positive and no inputs are given, this many random samples are fed
 */
public record LoadOptions(
    String tagSet, String signature, List<String> inputs, int batchSize, long maxSamples, int syntheticSamples) {

  public static final LoadOptions DEFAULTS =
      new LoadOptions("serve", "serving_default", List.of(), 32, Long.MAX_VALUE, 0);

  public LoadOptions(String tagSet, String signature, List<String> inputs, int batchSize, long maxSamples) {
    this(tagSet, signature, inputs, batchSize, maxSamples, 0);
  }

  /** Whether the model is to be run on data, real or synthetic. */
  public boolean runsOnData() {
    return !inputs.isEmpty() || syntheticSamples > 0;
  }

  public LoadOptions {
    inputs = List.copyOf(inputs);
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    if (syntheticSamples < 0) {
      throw new IllegalArgumentException("synthetic samples must not be negative, got " + syntheticSamples);
    }
    if (maxSamples < 1) {
      throw new IllegalArgumentException("max samples must be at least 1, got " + maxSamples);
    }
  }
}
