package dev.bncheck.load.tensorflow;

import dev.bncheck.load.array.InputArray;
import dev.bncheck.model.Tensor;
import java.util.Arrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
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

  /** Elements {@code [from, to)} of input data, row-major, as a tensor of the graph's {@code dtype} and the given shape. */
  static org.tensorflow.Tensor toTensorFlow(InputArray input, DataType dtype, long[] dims, int from, int to) {
    if (input instanceof InputArray.Strings strings) {
      return TString.tensorOfBytes(Shape.of(dims), DataBuffers.ofObjects(Arrays.copyOfRange(strings.values(), from, to)));
    }
    Tensor data = ((InputArray.Numbers) input).tensor();
    if (dtype == DataType.DT_INT32) {
      int[] values = new int[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = (int) data.get(i);
      }
      return TInt32.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (dtype == DataType.DT_UINT8) {
      byte[] values = new byte[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = (byte) (int) data.get(i);
      }
      return TUint8.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (dtype == DataType.DT_UINT16) {
      short[] values = new short[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = (short) (int) data.get(i);
      }
      return TUint16.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (dtype == DataType.DT_BOOL) {
      boolean[] values = new boolean[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = data.get(i) != 0;
      }
      return TBool.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (dtype == DataType.DT_HALF || dtype == DataType.DT_BFLOAT16) {
      float[] values = new float[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = (float) data.get(i);
      }
      return dtype == DataType.DT_HALF
          ? TFloat16.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false))
          : TBfloat16.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (dtype == DataType.DT_INT64) {
      long[] values = new long[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = (long) data.get(i);
      }
      return TInt64.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    if (dtype == DataType.DT_DOUBLE) {
      double[] values = new double[to - from];
      for (int i = from; i < to; i++) {
        values[i - from] = data.get(i);
      }
      return TFloat64.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
    }
    float[] values = data instanceof Tensor.Float32 f
        ? Arrays.copyOfRange(f.data(), from, to)
        : toFloats(data, from, to);
    return TFloat32.tensorOf(Shape.of(dims), DataBuffers.of(values, true, false));
  }

  private static float[] toFloats(Tensor data, int from, int to) {
    float[] out = new float[to - from];
    for (int i = from; i < to; i++) {
      out[i - from] = (float) data.get(i);
    }
    return out;
  }
}
