package dev.bncheck.engine;

import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.SplittableRandom;

/** Small builders and views shared by the engine tests. */
final class TestData {

  private TestData() {}

  static Tensor tensor(int[] shape, double[] values, boolean float32) {
    return float32 ? new Tensor.Float32(shape, toFloats(values)) : new Tensor.Float64(shape, values.clone());
  }

  static float[] toFloats(double[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  /** The product of the dimensions after {@code axis}: the stride of the channel index. */
  static int inner(int[] shape, int axis) {
    int inner = 1;
    for (int i = axis + 1; i < shape.length; i++) {
      inner *= shape[i];
    }
    return inner;
  }

  /** The channel of the value at a flat row-major index. */
  static int channelOf(int index, int[] shape, int axis) {
    return (index / inner(shape, axis)) % shape[axis];
  }

  /** A layer with learned scale and offset and no momentum, as the engine sees any framework's. */
  static BnLayer layer(int axis, double[] gamma, double[] beta, double[] movingMean, double[] movingVariance, double epsilon) {
    return new BnLayer("bn", "test", axis, epsilon, OptionalDouble.empty(), null, OptionalLong.empty(),
        gamma, true, beta, true, movingMean, movingVariance, java.util.Optional.empty());
  }

  static double[] biasedVariances(ChannelMoments m) {
    double[] out = new double[m.channels()];
    for (int c = 0; c < out.length; c++) {
      out[c] = m.biasedVariance(c);
    }
    return out;
  }

  static double[] unbiasedVariances(ChannelMoments m) {
    double[] out = new double[m.channels()];
    for (int c = 0; c < out.length; c++) {
      out[c] = m.unbiasedVariance(c);
    }
    return out;
  }

  /** The values in native memory, as ONNX Runtime's outputs are read in place. */
  static ByteBuffer inNativeMemory(float[] x) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(x.length * Float.BYTES).order(ByteOrder.nativeOrder());
    buffer.asFloatBuffer().put(x);
    return buffer;
  }

  /** Sum and sum of squares: accumulators of a random start. */
  static double[][] laneSums(int length) {
    SplittableRandom random = new SplittableRandom(length);
    double[][] sums = new double[2][length];
    for (double[] lanes : sums) {
      for (int j = 0; j < length; j++) {
        lanes[j] = random.nextGaussian();
      }
    }
    return sums;
  }
}
