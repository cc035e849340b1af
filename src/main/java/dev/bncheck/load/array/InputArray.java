package dev.bncheck.load.array;

import dev.bncheck.model.Tensor;
import java.util.Arrays;

/**
 * The data for one model input as read from the user's files: numbers, or strings (NumPy's
 * {@code S} and {@code U} arrays, or the raw bytes of files given as {@code @FILE}). The first
 * axis lists the samples.
 */
public sealed interface InputArray permits InputArray.Numbers, InputArray.Strings {

  int[] shape();

  /** The element type for messages: {@code float32}, {@code float64} or {@code string}. */
  String dtype();

  /** Numbers, kept as the tensor they were read into. */
  record Numbers(Tensor tensor) implements InputArray {

    @Override
    public int[] shape() {
      return tensor.shape();
    }

    @Override
    public String dtype() {
      return tensor.dtype();
    }
  }

  /**
   * Strings as the bytes TensorFlow holds them in: NumPy bytes as they are, NumPy unicode as
   * UTF-8 (what TensorFlow makes of a Python str), files as their content.
   *
   * @param values row-major, one per element
   */
  record Strings(int[] shape, byte[][] values) implements InputArray {

    public Strings {
      if (Tensor.elementCount(shape) != values.length || Arrays.stream(shape).anyMatch(d -> d < 0)) {
        throw new IllegalArgumentException(
            "shape " + Tensor.describeShape(shape) + " does not hold " + values.length + " strings");
      }
    }

    @Override
    public String dtype() {
      return "string";
    }
  }
}
