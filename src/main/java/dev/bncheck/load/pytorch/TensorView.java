package dev.bncheck.load.pytorch;

import dev.bncheck.load.InvalidInputException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A tensor as PyTorch stores it: a view of {@code shape} and {@code stride} (in elements) from
 * {@code offset} into a storage that other tensors may share. Its values are read on demand, so
 * that only the BN layers' tensors of a large checkpoint are ever read.
 *
 * @param file the checkpoint, for messages
 */
record TensorView(String file, Storage storage, long offset, long[] shape, long[] stride) {

  TensorView {
    shape = shape.clone();
    stride = stride.clone();
  }

  TorchDtype dtype() {
    return storage.dtype();
  }

  int rank() {
    return shape.length;
  }

  /** The number of elements, or -1 beyond {@code Long.MAX_VALUE}. */
  long elements() {
    long n = 1;
    for (long d : shape) {
      if (d != 0 && n > Long.MAX_VALUE / d) {
        return -1;
      }
      n *= d;
    }
    return n;
  }

  String describeShape() {
    return Arrays.toString(shape);
  }

  /**
   * Every element in row-major order, as doubles.
   *
   * @param name the tensor's key, for messages
   */
  double[] values(String name) {
    long n = elements();
    if (n < 0 || n > TorchLimits.MAX_CHANNELS) {
      throw new InvalidInputException(file, name, "shape " + describeShape() + " holds more values than bncheck reads"
          + " for one BN parameter (" + TorchLimits.MAX_CHANNELS + ")");
    }
    double[] out = new double[(int) n];
    if (n == 0) {
      return out;
    }
    ByteBuffer bytes = span(name);
    int item = dtype().bytes();
    long[] index = new long[shape.length];
    for (int i = 0; i < n; i++) {
      long at = 0;
      for (int d = 0; d < shape.length; d++) {
        at += index[d] * stride[d];
      }
      out[i] = dtype().read(bytes, Math.toIntExact(at * item));
      for (int d = shape.length - 1; d >= 0 && ++index[d] == shape[d]; d--) {
        index[d] = 0;
      }
    }
    return out;
  }

  /** The value of a one-element integer tensor, exact ({@code num_batches_tracked}). */
  long longScalar(String name) {
    if (elements() != 1) {
      throw new InvalidInputException(file, name, "expected a single value, got shape " + describeShape());
    }
    return dtype().readLong(span(name), 0);
  }

  /** The bytes from the first element to the last this view reaches, after checking they lie in the storage. */
  private ByteBuffer span(String name) {
    if (shape.length > TorchLimits.MAX_RANK) {
      throw new InvalidInputException(file, name, "rank " + shape.length + " exceeds " + TorchLimits.MAX_RANK);
    }
    if (offset < 0) {
      throw new InvalidInputException(file, name, "negative storage offset " + offset);
    }
    try {
      long last = offset;
      for (int d = 0; d < shape.length; d++) {
        if (shape[d] < 0 || stride[d] < 0) {
          throw new InvalidInputException(file, name, "negative size or stride: size " + describeShape() + ", stride "
              + Arrays.toString(stride));
        }
        last = Math.addExact(last, Math.multiplyExact(shape[d] - 1, stride[d]));
      }
      if (last >= storage.elements()) {
        throw new InvalidInputException(file, name, "reaches element " + last + " of " + storage.where() + ", which holds "
            + storage.elements() + " (size " + describeShape() + ", stride " + Arrays.toString(stride) + ", offset "
            + offset + ")");
      }
      long item = dtype().bytes();
      long end = Math.multiplyExact(last + 1, item);
      if (end > storage.bytes().length()) {
        throw new InvalidInputException(file, storage.where(), "holds " + storage.bytes().length() + " bytes, but "
            + name + " needs " + end);
      }
      long count = end - offset * item;
      if (count > TorchLimits.MAX_SPAN_BYTES) {
        throw new InvalidInputException(file, name, "spans " + count + " bytes of its storage (stride "
            + Arrays.toString(stride) + "), more than bncheck reads for one BN parameter (" + TorchLimits.MAX_SPAN_BYTES
            + ")");
      }
      return storage.bytes().read(offset * item, (int) count);
    } catch (ArithmeticException e) {
      throw new InvalidInputException(file, name, "size, stride and offset overflow: size " + describeShape()
          + ", stride " + Arrays.toString(stride) + ", offset " + offset);
    }
  }
}
