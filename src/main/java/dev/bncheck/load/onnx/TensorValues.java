package dev.bncheck.load.onnx;

import dev.bncheck.load.onnx.OnnxProto.TensorProto;
import dev.bncheck.model.Float16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Decodes the floating-point values of an ONNX tensor, wherever the model keeps them. */
final class TensorValues {

  private TensorValues() {}

  /** Bytes per element of the floating-point types, 0 for any other type. */
  static int floatBytes(int dataType) {
    return switch (dataType) {
      case OnnxProto.FLOAT -> 4;
      case OnnxProto.DOUBLE -> 8;
      case OnnxProto.FLOAT16, OnnxProto.BFLOAT16 -> 2;
      default -> 0;
    };
  }

  /**
   * The values, widened to double.
   *
   * @param external the bytes of a tensor kept in a side file, or null for one kept in the model
   * @throws IllegalArgumentException with the reason, when the tensor holds no floating-point
   *     values or fewer or more than its dimensions say
   */
  static double[] of(TensorProto t, byte[] external) {
    int width = floatBytes(t.dataType());
    if (width == 0) {
      throw new IllegalArgumentException("holds " + OnnxProto.typeName(t.dataType()) + ", not floating-point values");
    }
    long count = t.elementCount();
    if (count < 0) {
      throw new IllegalArgumentException("has dimensions " + java.util.Arrays.toString(t.dims())
          + ", beyond what bncheck reads");
    }
    byte[] raw = external != null ? external : t.raw();
    double[] out = new double[(int) count];
    if (raw != null) {
      if (raw.length != count * width) {
        throw new IllegalArgumentException("holds " + raw.length + " bytes for " + count + " values of "
            + OnnxProto.typeName(t.dataType()));
      }
      ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < out.length; i++) {
        out[i] = switch (t.dataType()) {
          case OnnxProto.FLOAT -> b.getFloat();
          case OnnxProto.DOUBLE -> b.getDouble();
          case OnnxProto.FLOAT16 -> Float16.toFloat(b.getShort());
          default -> Float.intBitsToFloat((b.getShort() & 0xFFFF) << 16);
        };
      }
      return out;
    }
    int stored = switch (t.dataType()) {
      case OnnxProto.FLOAT -> t.floatData().length;
      case OnnxProto.DOUBLE -> t.doubleData().length;
      default -> t.int32Data().length;
    };
    if (stored != count) {
      throw new IllegalArgumentException("holds " + stored + " values where its dimensions "
          + java.util.Arrays.toString(t.dims()) + " say " + count);
    }
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (t.dataType()) {
        case OnnxProto.FLOAT -> t.floatData()[i];
        case OnnxProto.DOUBLE -> t.doubleData()[i];
        // float16 and bfloat16 values kept in int32_data, one per element, in the low 16 bits
        case OnnxProto.FLOAT16 -> Float16.toFloat((short) t.int32Data()[i]);
        default -> Float.intBitsToFloat((t.int32Data()[i] & 0xFFFF) << 16);
      };
    }
    return out;
  }

  /**
   * The values of an int64 tensor kept in the model (axes and shapes), or null when it is not one
   * or holds fewer or more values than its dimensions say.
   */
  static long[] int64s(TensorProto t) {
    long count = t.elementCount();
    if (t.dataType() != OnnxProto.INT64 || t.isExternal() || count < 0) {
      return null;
    }
    if (t.raw() != null) {
      if (t.raw().length != count * 8) {
        return null;
      }
      long[] out = new long[(int) count];
      ByteBuffer.wrap(t.raw()).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
      return out;
    }
    return t.int64Data().length == count ? t.int64Data().clone() : null;
  }

  /** The dimensions as ints, for a tensor whose element count fits an array. */
  static int[] shape(TensorProto t) {
    int[] shape = new int[t.dims().length];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = (int) t.dims()[i];
    }
    return shape;
  }
}
