package dev.bncheck.load.tensorflow;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** Decodes the values of Const nodes in Java, without TensorFlow's native library. */
final class TensorValues {

  /** Larger constants are not BN parameters and are not decoded. */
  private static final long MAX_VALUES = 1L << 26;

  /** The values of a Const node, widened to double; empty for non-numeric or oversized constants. */
  double[] values(NodeDef constNode) {
    var value = constNode.getAttrMap().get("value");
    return value == null ? new double[0] : decode(value.getTensor());
  }

  /** The value of a scalar (or one-element) constant. */
  Optional<Double> scalar(NodeDef constNode) {
    var value = constNode.getAttrMap().get("value");
    if (value == null || elementCount(value.getTensor().getTensorShape()) != 1) {
      return Optional.empty();
    }
    double[] v = decode(value.getTensor());
    return v.length == 1 ? Optional.of(v[0]) : Optional.empty();
  }

  static long elementCount(TensorShapeProto shape) {
    long n = 1;
    for (TensorShapeProto.Dim d : shape.getDimList()) {
      if (d.getSize() < 0) {
        return -1;
      }
      n *= d.getSize();
      if (n > MAX_VALUES) {
        return -1;
      }
    }
    return n;
  }

  static double[] decode(TensorProto t) {
    long count = elementCount(t.getTensorShape());
    if (count < 0) {
      return new double[0];
    }
    int n = (int) count;
    DataType type = t.getDtype();
    if (!t.getTensorContent().isEmpty()) {
      ByteBuffer b = t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      double[] out = new double[n];
      for (int i = 0; i < n; i++) {
        out[i] = switch (type) {
          case DT_FLOAT -> i * 4 + 4 <= b.limit() ? b.getFloat(i * 4) : Double.NaN;
          case DT_DOUBLE -> i * 8 + 8 <= b.limit() ? b.getDouble(i * 8) : Double.NaN;
          case DT_HALF -> i * 2 + 2 <= b.limit() ? dev.bncheck.model.Float16.toFloat(b.getShort(i * 2)) : Double.NaN;
          case DT_BFLOAT16 -> i * 2 + 2 <= b.limit() ? Float.intBitsToFloat(b.getShort(i * 2) << 16) : Double.NaN;
          case DT_INT32 -> i * 4 + 4 <= b.limit() ? b.getInt(i * 4) : Double.NaN;
          case DT_INT64 -> i * 8 + 8 <= b.limit() ? b.getLong(i * 8) : Double.NaN;
          case DT_BOOL -> i < b.limit() ? b.get(i) : Double.NaN;
          default -> Double.NaN;
        };
      }
      return out;
    }
    double[] listed = switch (type) {
      case DT_FLOAT -> t.getFloatValList().stream().mapToDouble(Float::doubleValue).toArray();
      case DT_DOUBLE -> t.getDoubleValList().stream().mapToDouble(Double::doubleValue).toArray();
      case DT_HALF -> t.getHalfValList().stream().mapToDouble(h -> dev.bncheck.model.Float16.toFloat((short) (int) h)).toArray();
      case DT_BFLOAT16 -> t.getHalfValList().stream().mapToDouble(h -> Float.intBitsToFloat(h << 16)).toArray();
      case DT_INT32 -> t.getIntValList().stream().mapToDouble(Integer::doubleValue).toArray();
      case DT_INT64 -> t.getInt64ValList().stream().mapToDouble(Long::doubleValue).toArray();
      case DT_BOOL -> t.getBoolValList().stream().mapToDouble(v -> v ? 1.0 : 0.0).toArray();
      default -> new double[0];
    };
    if (listed.length == 0 || listed.length == n) {
      return listed.length == n ? listed : new double[0];
    }
    // TensorFlow stores a constant whose trailing values repeat by listing them once.
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = listed[Math.min(i, listed.length - 1)];
    }
    return out;
  }
}
