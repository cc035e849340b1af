package dev.bncheck.load.tensorflow;

import dev.bncheck.load.array.InputArray;
import dev.bncheck.model.Tensor;
import java.util.Arrays;
import java.util.function.IntUnaryOperator;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.ndarray.buffer.FloatDataBuffer;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint16;
import org.tensorflow.types.TUint8;

/** Values between TensorFlow's tensors and bncheck's arrays, read in bulk from the raw buffers. */
final class TensorConversions {

  private TensorConversions() {}

  /** A float tensor as bncheck's tensor of the same precision and shape. */
  static Tensor toTensor(org.tensorflow.Tensor t) {
    long[] dims = t.shape().asArray();
    int[] shape = new int[dims.length];
    for (int i = 0; i < dims.length; i++) {
      shape[i] = (int) dims[i];
    }
    int n = (int) t.size();
    if (t instanceof TFloat64 d) {
      double[] values = new double[n];
      d.asRawTensor().data().asDoubles().read(values);
      return new Tensor.Float64(shape, values);
    }
    return new Tensor.Float32(shape, floatsOf(t));
  }

  /** A float tensor's values in double, whatever its shape. */
  static double[] doubles(org.tensorflow.Tensor t) {
    if (t instanceof TFloat64 d) {
      double[] out = new double[(int) t.size()];
      d.asRawTensor().data().asDoubles().read(out);
      return out;
    }
    float[] floats = floatsOf(t);
    double[] out = new double[floats.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = floats[i];
    }
    return out;
  }

  /** Values rounded to float32, as a float variable stores them. */
  static float[] floats(double[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  private static float[] floatsOf(org.tensorflow.Tensor t) {
    if (!(t instanceof TFloat32 f)) {
      throw new IllegalStateException("read a " + t.dataType() + " tensor; BN layers work on floats");
    }
    float[] values = new float[(int) t.size()];
    f.asRawTensor().data().asFloats().read(values);
    return values;
  }

  /**
   * Rows of input data, as a tensor of the graph's {@code dtype} and the given shape: row {@code k}
   * of the tensor is the {@code rowLength} elements from flat index {@code rowStarts[k]}.
   */
  static org.tensorflow.Tensor toTensorFlow(InputArray input, DataType dtype, long[] dims, int[] rowStarts,
      int rowLength) {
    int n = rowStarts.length * rowLength;
    if (input instanceof InputArray.Strings strings) {
      byte[][] values = new byte[n][];
      for (int k = 0; k < rowStarts.length; k++) {
        System.arraycopy(strings.values(), rowStarts[k], values, k * rowLength, rowLength);
      }
      return TString.tensorOfBytes(Shape.of(dims), DataBuffers.ofObjects(values));
    }
    Tensor data = ((InputArray.Numbers) input).tensor();
    IntUnaryOperator at = i -> rowStarts[i / rowLength] + i % rowLength;
    if (dtype == DataType.DT_INT32) {
      int[] values = new int[n];
      for (int i = 0; i < n; i++) {
        values[i] = (int) data.get(at.applyAsInt(i));
      }
      return TInt32.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (dtype == DataType.DT_UINT8) {
      byte[] values = new byte[n];
      for (int i = 0; i < n; i++) {
        values[i] = (byte) (int) data.get(at.applyAsInt(i));
      }
      return TUint8.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (dtype == DataType.DT_UINT16) {
      short[] values = new short[n];
      for (int i = 0; i < n; i++) {
        values[i] = (short) (int) data.get(at.applyAsInt(i));
      }
      return TUint16.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (dtype == DataType.DT_BOOL) {
      boolean[] values = new boolean[n];
      for (int i = 0; i < n; i++) {
        values[i] = data.get(at.applyAsInt(i)) != 0;
      }
      return TBool.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (dtype == DataType.DT_HALF || dtype == DataType.DT_BFLOAT16) {
      float[] values = toFloats(data, rowStarts, rowLength);
      return dtype == DataType.DT_HALF
          ? TFloat16.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false))
          : TBfloat16.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (dtype == DataType.DT_INT64) {
      long[] values = new long[n];
      for (int i = 0; i < n; i++) {
        values[i] = (long) data.get(at.applyAsInt(i));
      }
      return TInt64.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (dtype == DataType.DT_DOUBLE) {
      double[] values = new double[n];
      for (int i = 0; i < n; i++) {
        values[i] = data.get(at.applyAsInt(i));
      }
      return TFloat64.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (data instanceof Tensor.Float32 f) {
      // row by row into TensorFlow's buffer: a copy on the Java heap first was a batch's size of
      // garbage per run (19 MB for ResNet-50's batches of 32), which grew the heap's footprint
      return TFloat32.tensorOf(Shape.of(dims), t -> {
        FloatDataBuffer buffer = t.asRawTensor().data().asFloats();
        for (int k = 0; k < rowStarts.length; k++) {
          buffer.offset((long) k * rowLength).write(f.data(), rowStarts[k], rowLength);
        }
      });
    }
    return TFloat32.tensorOf(Shape.of(dims), DataBuffers.of(toFloats(data, rowStarts, rowLength), true, false));
  }

  private static float[] toFloats(Tensor data, int[] rowStarts, int rowLength) {
    float[] out = new float[rowStarts.length * rowLength];
    for (int k = 0; k < rowStarts.length; k++) {
      if (data instanceof Tensor.Float32 f) {
        System.arraycopy(f.data(), rowStarts[k], out, k * rowLength, rowLength);
      } else {
        for (int j = 0; j < rowLength; j++) {
          out[k * rowLength + j] = (float) data.get(rowStarts[k] + j);
        }
      }
    }
    return out;
  }
}
