package dev.bncheck.model;

import java.util.Arrays;

/**
 * A dense row-major tensor of float32 or float64 values. Activations stay in their stored
 * precision so that a float32 batch of several hundred MB is never widened to doubles.
 */
public sealed interface Tensor permits Tensor.Float32, Tensor.Float64 {

  /** Largest element count a Java array can hold; larger tensors must be split into batches. */
  long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  int[] shape();

  /** The element count of the tensor. */
  default int size() {
    return (int) elementCount(shape());
  }

  /** The value at a flat row-major index, widened to double. */
  double get(int index);

  String dtype();

  /** Product of the dimensions, or -1 when it exceeds {@link #MAX_ELEMENTS}. */
  static long elementCount(int[] shape) {
    long n = 1;
    for (int d : shape) {
      n *= d;
      if (n > MAX_ELEMENTS) {
        return -1;
      }
    }
    return n;
  }

  static String describeShape(int[] shape) {
    return Arrays.toString(shape);
  }

  /** A float32 tensor. */
  record Float32(int[] shape, float[] data) implements Tensor {
    public Float32 {
      requireConsistent(shape, data.length);
    }

    @Override
    public double get(int index) {
      return data[index];
    }

    @Override
    public String dtype() {
      return "float32";
    }
  }

  /** A float64 tensor. */
  record Float64(int[] shape, double[] data) implements Tensor {
    public Float64 {
      requireConsistent(shape, data.length);
    }

    @Override
    public double get(int index) {
      return data[index];
    }

    @Override
    public String dtype() {
      return "float64";
    }
  }

  private static void requireConsistent(int[] shape, int length) {
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + describeShape(shape));
      }
    }
    if (elementCount(shape) != length) {
      throw new IllegalArgumentException(
          "shape " + describeShape(shape) + " does not hold " + length + " values");
    }
  }
}
