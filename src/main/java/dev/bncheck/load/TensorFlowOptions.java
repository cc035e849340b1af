package dev.bncheck.load;

import java.util.List;
import java.util.Objects;

/**
 * What only a TensorFlow model is read by: which meta graph and signature count, and the graph
 * tensors fed instead of its inputs.
 *
 * @param tagSet the SavedModel meta graph's tags, comma-separated (like saved_model_cli)
 * @param signature the SavedModel signature whose graph counts
 * @param inputNodes graph tensors ({@code node} or {@code node:index}) fed instead of the model's
 *     inputs ({@code --input-node}); empty to feed the signature's inputs or the placeholders
 */
public record TensorFlowOptions(String tagSet, String signature, List<String> inputNodes) {

  public static final TensorFlowOptions DEFAULTS = new TensorFlowOptions("serve", "serving_default", List.of());

  public TensorFlowOptions {
    Objects.requireNonNull(tagSet, "tagSet");
    Objects.requireNonNull(signature, "signature");
    inputNodes = List.copyOf(inputNodes);
  }

  /** These options feeding the given graph tensors instead of the model's inputs. */
  public TensorFlowOptions withInputNodes(List<String> tensors) {
    return new TensorFlowOptions(tagSet, signature, tensors);
  }
}
