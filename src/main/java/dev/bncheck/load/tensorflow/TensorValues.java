package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.JavaHeap;
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

  /**
   * TensorFlow stores a constant whose trailing values repeat by listing them once: a never-updated
   * moving mean of C channels is one 0 and the shape [C]. BN layers have at most some tens of
   * thousands of channels; a larger expansion is no BN parameter, and would let a few bytes of graph
   * claim gigabytes.
   */
  private static final long MAX_REPEATED_VALUES = 1L << 20;

  private final String file;

  /** @param file the model file the constants come from, for error messages */
  TensorValues(String file) {
    this.file = file;
  }

  /** The values of a Const node, widened to double; empty for non-numeric or oversized constants. */
  double[] values(NodeDef constNode) {
    var value = constNode.getAttrMap().get("value");
    return value == null ? new double[0] : decode(constNode.getName(), value.getTensor());
  }

  /** The value of a scalar (or one-element) constant. */
  Optional<Double> scalar(NodeDef constNode) {
    var value = constNode.getAttrMap().get("value");
    if (value == null || elementCount(value.getTensor().getTensorShape()) != 1) {
      return Optional.empty();
    }
    double[] v = decode(constNode.getName(), value.getTensor());
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

  private double[] decode(String node, TensorProto t) {
    long count = elementCount(t.getTensorShape());
    if (count < 0) {
      return new double[0];
    }
    int n = (int) count;
    DataType type = t.getDtype();
    if (!t.getTensorContent().isEmpty()) {
      int width = width(type);
      // TensorFlow refuses content of another length; unknown types take at least a byte a value.
      if (width > 0 ? t.getTensorContent().size() != count * width : t.getTensorContent().size() < count) {
        return new double[0];
      }
      ByteBuffer b = t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      double[] out = allocate(node, n);
      for (int i = 0; i < n; i++) {
        out[i] = switch (type) {
          case DT_FLOAT -> b.getFloat(i * 4);
          case DT_DOUBLE -> b.getDouble(i * 8);
          case DT_HALF -> dev.bncheck.model.Float16.toFloat(b.getShort(i * 2));
          case DT_BFLOAT16 -> Float.intBitsToFloat(b.getShort(i * 2) << 16);
          case DT_INT32 -> b.getInt(i * 4);
          case DT_INT64 -> b.getLong(i * 8);
          case DT_BOOL -> b.get(i);
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
    if (n > listed.length && n > MAX_REPEATED_VALUES) {
      return new double[0];
    }
    double[] out = allocate(node, n);
    for (int i = 0; i < n; i++) {
      out[i] = listed[Math.min(i, listed.length - 1)];
    }
    return out;
  }

  private double[] allocate(String node, int n) {
    if (!JavaHeap.fits(n * 8L)) {
      throw new InvalidInputException(file, "node " + node, n + " values " + JavaHeap.tooLarge(n * 8L));
    }
    return new double[n];
  }

  /** Bytes per value in tensor_content; 0 for the types decoded as NaN. */
  private static int width(DataType type) {
    return switch (type) {
      case DT_DOUBLE, DT_INT64 -> 8;
      case DT_FLOAT, DT_INT32 -> 4;
      case DT_HALF, DT_BFLOAT16 -> 2;
      case DT_BOOL -> 1;
      default -> 0;
    };
  }
}
