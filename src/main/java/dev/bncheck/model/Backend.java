package dev.bncheck.model;

import java.util.Objects;

/**
 * What ran a model, as reports name it.
 *
 * @param runtime the runtime whose own BN outputs the self-check compares with ({@code TensorFlow},
 *     {@code ONNX Runtime})
 * @param outputs what the model's outputs are called there ({@code signature output}, {@code graph output})
 */
public record Backend(String runtime, String outputs) {

  public Backend {
    Objects.requireNonNull(runtime, "runtime");
    Objects.requireNonNull(outputs, "outputs");
  }
}
