package dev.bncheck.load.tensorflow;

import dev.bncheck.model.Tensor;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

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
}
