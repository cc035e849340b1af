package dev.bncheck.load.onnx;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The parts of an ONNX {@code ModelProto} bncheck reads (onnx/onnx.proto, IR version 3 and
 * later), as immutable values. Fields bncheck has no use for are skipped when reading and kept,
 * byte for byte, in the copy of the model that runs ({@link RunnableModel}).
 */
final class OnnxProto {

  private OnnxProto() {}

  /** TensorProto.DataType values bncheck reads or feeds. */
  static final int FLOAT = 1;
  static final int UINT8 = 2;
  static final int INT8 = 3;
  static final int UINT16 = 4;
  static final int INT16 = 5;
  static final int INT32 = 6;
  static final int INT64 = 7;
  static final int STRING = 8;
  static final int BOOL = 9;
  static final int FLOAT16 = 10;
  static final int DOUBLE = 11;
  static final int BFLOAT16 = 16;

  /** The name ONNX gives a data type, for messages. */
  static String typeName(int dataType) {
    return switch (dataType) {
      case FLOAT -> "float32";
      case UINT8 -> "uint8";
      case INT8 -> "int8";
      case UINT16 -> "uint16";
      case INT16 -> "int16";
      case INT32 -> "int32";
      case INT64 -> "int64";
      case STRING -> "string";
      case BOOL -> "bool";
      case FLOAT16 -> "float16";
      case DOUBLE -> "float64";
      case BFLOAT16 -> "bfloat16";
      default -> "data type " + dataType;
    };
  }

  /**
   * The model.
   *
   * @param opsets the operator set version imported per domain ({@code ""} is the default domain)
   * @param functions the model-local functions, as {@code domain:name}
   */
  record Model(long irVersion, String producerName, String producerVersion, Map<String, Long> opsets,
      Graph graph, List<String> functions) {

    /** The version of the default operator set (ai.onnx), which BatchNormalization belongs to. */
    long defaultOpset() {
      Long v = opsets.get("");
      return v != null ? v : opsets.getOrDefault("ai.onnx", 1L);
    }
  }

  /** A graph: the model's main graph or the body of an If, Loop or Scan. */
  record Graph(String name, List<Node> nodes, List<TensorProto> initializers, List<ValueInfo> inputs,
      List<ValueInfo> outputs) {}

  /**
   * A node.
   *
   * @param subgraphs the graphs its attributes hold (If branches, Loop and Scan bodies)
   */
  record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
      Map<String, Attribute> attributes, List<Graph> subgraphs) {

    /** The node's name for messages: its name, or its op and first output when it has none. */
    String label() {
      return !name.isEmpty() ? name : opType + " node writing " + (outputs.isEmpty() ? "nothing" : outputs.get(0));
    }

    Optional<Attribute> attribute(String attributeName) {
      return Optional.ofNullable(attributes.get(attributeName));
    }
  }

  /** An attribute of the kinds bncheck reads: a float, an integer, floats, integers, or a tensor. */
  record Attribute(String name, Optional<Float> f, Optional<Long> i, float[] floats, long[] ints,
      Optional<TensorProto> t) {}

  /**
   * A tensor: an initializer or a constant.
   *
   * @param raw {@code raw_data}, or null
   * @param floatData {@code float_data} (also the float16 and bfloat16 bits packed as int32s)
   * @param external the {@code external_data} entries, in file order; empty when the tensor is in the model
   */
  record TensorProto(String name, int dataType, long[] dims, byte[] raw, float[] floatData, double[] doubleData,
      long[] int64Data, int[] int32Data, List<Map.Entry<String, String>> external) {

    boolean isExternal() {
      return !external.isEmpty();
    }

    /** The element count its dimensions give, or -1 beyond what a Java array holds. */
    long elementCount() {
      long n = 1;
      for (long d : dims) {
        if (d < 0 || d > Integer.MAX_VALUE || (n *= d) > Integer.MAX_VALUE - 8) {
          return -1;
        }
      }
      return n;
    }

    Optional<String> externalValue(String key) {
      return external.stream().filter(e -> e.getKey().equals(key)).map(Map.Entry::getValue).reduce((a, b) -> b);
    }
  }

  /**
   * A graph input or output.
   *
   * @param elemType the tensor's element type, or 0 when it is not a tensor or not declared
   * @param dims each dimension's size, -1 where it is symbolic or unknown; null when the rank is unknown
   */
  record ValueInfo(String name, int elemType, long[] dims) {}
}
