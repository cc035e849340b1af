package dev.bncheck.load;

/**
 * How to read a model, for the kinds that need more than a path.
 *
 * @param tagSet the SavedModel meta graph's tags, comma-separated (like saved_model_cli)
 * @param signature the SavedModel signature whose graph counts
 */
public record LoadOptions(String tagSet, String signature) {

  public static final LoadOptions DEFAULTS = new LoadOptions("serve", "serving_default");
}
