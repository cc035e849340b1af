package dev.bncheck.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense row-major tensor of float32 or float64 values. Activations stay in their stored
 * precision so that a float32 batch of several hundred MB is never widened to doubles.
 */
public sealed interface Tensor permits Tensor.Float32, Tensor.Float64, Tensor.NativeFloat32 {

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

  /**
   * A float32 tensor read in place from a buffer in native memory, value {@code i} at byte
   * {@code 4 i}, in the platform's byte order: the outputs ONNX Runtime writes into buffers bncheck
   * gives it, run after run. Copying ResNet-50's BN inputs out of them into arrays took half as
   * long as reducing them. Its values change when the buffer's owner runs again, so a consumer
   * reads it before that and keeps nothing of it.
   */
  record NativeFloat32(int[] shape, ByteBuffer data) implements Tensor {
    public NativeFloat32 {
      if (data.order() != ByteOrder.nativeOrder() || data.position() != 0) {
        throw new IllegalArgumentException("a buffer in native byte order, from its start");
      }
      requireConsistent(shape, data.limit() / Float.BYTES);
    }

    @Override
    public double get(int index) {
      return data.getFloat(index * Float.BYTES);
    }

    @Override
    public String dtype() {
      return "float32";
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
