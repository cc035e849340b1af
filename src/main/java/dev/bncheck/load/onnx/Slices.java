package dev.bncheck.load.onnx;

import dev.bncheck.model.Tensor;
import java.util.Arrays;

/** Rows of a tensor along its first axis, the samples. */
final class Slices {

  private Slices() {}

  /** Rows {@code [start, start + count)}, as many as there are. */
  static Tensor rows(Tensor t, int start, int count) {
    int[] shape = t.shape().clone();
    if (shape.length == 0) {
      return t;
    }
    int row = shape[0] == 0 ? 0 : t.size() / shape[0];
    int end = Math.min(shape[0], start + count);
    shape[0] = Math.max(0, end - start);
    int from = start * row;
    int to = from + shape[0] * row;
    return t instanceof Tensor.Float32 f
        ? new Tensor.Float32(shape, Arrays.copyOfRange(f.data(), from, to))
        : new Tensor.Float64(shape, Arrays.copyOfRange(((Tensor.Float64) t).data(), from, to));
  }

  /** The first {@code count} rows, or all there are. */
  static Tensor first(Tensor t, int count) {
    return rows(t, 0, count);
  }
}
