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

  /**
   * Whether this is one value for every run rather than samples: a scalar such as a mode flag
   * ({@code is_training=false}) or a rate, which has no first axis to list samples along.
   */
  default boolean perRun() {
    return shape().length == 0;
  }

  /** Numeric tensors as input arrays, in the same order. */
  static java.util.Map<String, InputArray> numbers(java.util.Map<String, Tensor> tensors) {
    java.util.Map<String, InputArray> arrays = new java.util.LinkedHashMap<>();
    tensors.forEach((name, tensor) -> arrays.put(name, new Numbers(tensor)));
    return arrays;
  }

  /** Whether every array that lists samples lists {@code samples} of them. */
  static boolean agree(java.util.Map<String, InputArray> data, int samples) {
    return data.values().stream().allMatch(a -> a.perRun() || a.shape()[0] == samples);
  }

  /** The number of samples the arrays list (those that are not {@linkplain #perRun per run}), or -1 if none does. */
  static int samples(java.util.Map<String, InputArray> data) {
    for (InputArray array : data.values()) {
      if (!array.perRun()) {
        return array.shape()[0];
      }
    }
    return -1;
  }

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
