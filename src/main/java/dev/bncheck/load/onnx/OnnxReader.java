package dev.bncheck.load.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.onnx.OnnxProto.Attribute;
import dev.bncheck.load.onnx.OnnxProto.Graph;
import dev.bncheck.load.onnx.OnnxProto.Model;
import dev.bncheck.load.onnx.OnnxProto.Node;
import dev.bncheck.load.onnx.OnnxProto.TensorProto;
import dev.bncheck.load.onnx.OnnxProto.ValueInfo;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads the messages of an ONNX model that bncheck needs from the protobuf wire format, in Java:
 * no generated classes, no native parser. Nesting and node count are bounded while reading
 * ({@link OnnxLimits}), so that a hostile file cannot exhaust the stack or the heap before the
 * checks on the whole model run.
 */
final class OnnxReader {

  private final String file;
  private final CodedInputStream in;
  /** Where the reader is, for messages: {@code graph.node[3].attribute[0]}. */
  private final Deque<String> path = new ArrayDeque<>();
  private int nodes;
  private int depth;

  private OnnxReader(String file, byte[] bytes) {
    this.file = file;
    this.in = CodedInputStream.newInstance(bytes);
    // every nested message is read through an explicit limit; the stream's own recursion guard is not used
    in.setSizeLimit(Integer.MAX_VALUE);
  }

  /**
   * Reads a model.
   *
   * @param file the model's name for messages
   * @throws InvalidInputException when the bytes are not a well-formed model within the limits
   */
  static Model readModel(String file, byte[] bytes) {
    OnnxReader reader = new OnnxReader(file, bytes);
    try {
      Model model = reader.model();
      if (model.graph() == null) {
        throw new InvalidInputException(file, "ModelProto.graph", "missing: not an ONNX model");
      }
      return model;
    } catch (InvalidProtocolBufferException e) {
      throw reader.corrupt(e);
    } catch (IOException e) {
      throw new InvalidInputException(file, reader.where(), "cannot read: " + e.getMessage(), e);
    }
  }

  /** Reads a serialized TensorProto on its own (the ONNX test data sets' input_0.pb). */
  static TensorProto readTensor(String file, byte[] bytes) {
    OnnxReader reader = new OnnxReader(file, bytes);
    try {
      return reader.tensor();
    } catch (InvalidProtocolBufferException e) {
      throw reader.corrupt(e);
    } catch (IOException e) {
      throw new InvalidInputException(file, reader.where(), "cannot read: " + e.getMessage(), e);
    }
  }

  private InvalidInputException corrupt(InvalidProtocolBufferException e) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    String problem = message.contains("ended unexpectedly") || message.contains("truncated")
        ? "the file ends inside this field: truncated, or a length in it is wrong"
        : "not valid ONNX protobuf here (" + message.lines().findFirst().orElse("malformed") + ")";
    return new InvalidInputException(file, where(), problem, e);
  }

  private String where() {
    List<String> parts = new ArrayList<>(path);
    Collections.reverse(parts);
    return "ModelProto" + (parts.isEmpty() ? "" : "." + String.join(".", parts));
  }

  private Model model() throws IOException {
    long irVersion = 0;
    String producer = "";
    String producerVersion = "";
    Map<String, Long> opsets = new LinkedHashMap<>();
    Graph graph = null;
    List<String> functions = new ArrayList<>();
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (tag) {
        case 1 << 3 -> irVersion = in.readInt64();
        case (2 << 3) | 2 -> producer = in.readString();
        case (3 << 3) | 2 -> producerVersion = in.readString();
        case (7 << 3) | 2 -> {
          if (graph != null) {
            // protobuf merges the fields into one graph; reading the last alone had left the
            // layers of the others unresolved without a word
            throw new InvalidInputException(file, "ModelProto.graph", "the model holds more than one graph field;"
                + " save it again as one with onnx.save(onnx.load(path), path)");
          }
          graph = nested("graph", this::graph);
        }
        case (8 << 3) | 2 -> {
          String[] domain = {""};
          long[] version = {0};
          nested("opset_import", () -> {
            int t;
            while ((t = in.readTag()) != 0) {
              switch (t) {
                case (1 << 3) | 2 -> domain[0] = in.readString();
                case 2 << 3 -> version[0] = in.readInt64();
                default -> in.skipField(t);
              }
            }
            return null;
          });
          opsets.put(domain[0], version[0]);
        }
        case (25 << 3) | 2 -> functions.add(nested("functions", this::functionName));
        default -> in.skipField(tag);
      }
    }
    return new Model(irVersion, producer, producerVersion, Map.copyOf(opsets), graph, List.copyOf(functions));
  }

  private String functionName() throws IOException {
    String name = "";
    String domain = "";
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (tag) {
        case (1 << 3) | 2 -> name = in.readString();
        case (10 << 3) | 2 -> domain = in.readString();
        default -> in.skipField(tag);
      }
    }
    return domain + ":" + name;
  }

  private Graph graph() throws IOException {
    depth++;
    // the main graph is depth 1: the limit counts the subgraphs below it
    if (depth > OnnxLimits.MAX_GRAPH_NESTING + 1) {
      throw new InvalidInputException(file, where(), "subgraphs (If, Loop, Scan) nested more than "
          + OnnxLimits.MAX_GRAPH_NESTING + " deep; bncheck refuses such a model");
    }
    String name = "";
    List<Node> graphNodes = new ArrayList<>();
    List<TensorProto> initializers = new ArrayList<>();
    List<ValueInfo> inputs = new ArrayList<>();
    List<ValueInfo> outputs = new ArrayList<>();
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (tag) {
        case (1 << 3) | 2 -> {
          if (++nodes > OnnxLimits.MAX_NODES) {
            throw new InvalidInputException(file, where(), "more than " + OnnxLimits.MAX_NODES
                + " nodes; bncheck refuses such a model");
          }
          graphNodes.add(nested("node[" + graphNodes.size() + "]", this::node));
        }
        case (2 << 3) | 2 -> name = in.readString();
        case (5 << 3) | 2 -> initializers.add(nested("initializer[" + initializers.size() + "]", this::tensor));
        case (11 << 3) | 2 -> inputs.add(nested("input[" + inputs.size() + "]", this::valueInfo));
        case (12 << 3) | 2 -> outputs.add(nested("output[" + outputs.size() + "]", this::valueInfo));
        default -> in.skipField(tag);
      }
    }
    depth--;
    return new Graph(name, List.copyOf(graphNodes), List.copyOf(initializers), List.copyOf(inputs),
        List.copyOf(outputs));
  }

  private Node node() throws IOException {
    String name = "";
    String opType = "";
    String domain = "";
    List<String> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    Map<String, Attribute> attributes = new LinkedHashMap<>();
    List<Graph> subgraphs = new ArrayList<>();
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (tag) {
        case (1 << 3) | 2 -> inputs.add(in.readString());
        case (2 << 3) | 2 -> outputs.add(in.readString());
        case (3 << 3) | 2 -> name = in.readString();
        case (4 << 3) | 2 -> opType = in.readString();
        case (7 << 3) | 2 -> domain = in.readString();
        case (5 << 3) | 2 -> {
          Attribute a = nested("attribute[" + attributes.size() + "]", () -> attribute(subgraphs));
          if (attributes.put(a.name(), a) != null) {
            // ONNX's checker refuses it; bncheck and the runtime could each read a different one
            throw new InvalidInputException(file, where(), "node " + (name.isEmpty() ? opType : name)
                + " gives attribute " + a.name() + " twice");
          }
        }
        default -> in.skipField(tag);
      }
    }
    return new Node(name, opType, domain, List.copyOf(inputs), List.copyOf(outputs), Collections.unmodifiableMap(
        attributes), List.copyOf(subgraphs));
  }

  private Attribute attribute(List<Graph> subgraphs) throws IOException {
    String name = "";
    Float f = null;
    Long i = null;
    List<Float> floats = new ArrayList<>();
    List<Long> ints = new ArrayList<>();
    TensorProto t = null;
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (tag) {
        case (1 << 3) | 2 -> name = in.readString();
        case (2 << 3) | 5 -> f = in.readFloat();
        case 3 << 3 -> i = in.readInt64();
        case (5 << 3) | 2 -> t = nested("t", this::tensor);
        case (6 << 3) | 2 -> subgraphs.add(nested("g", this::graph));
        case (11 << 3) | 2 -> subgraphs.add(nested("graphs", this::graph));
        case (7 << 3) | 5 -> floats.add(in.readFloat());
        case (7 << 3) | 2 -> packed(() -> floats.add(in.readFloat()));
        case 8 << 3 -> ints.add(in.readInt64());
        case (8 << 3) | 2 -> packed(() -> ints.add(in.readInt64()));
        default -> in.skipField(tag);
      }
    }
    float[] values = new float[floats.size()];
    for (int k = 0; k < values.length; k++) {
      values[k] = floats.get(k);
    }
    return new Attribute(name, Optional.ofNullable(f), Optional.ofNullable(i), values,
        ints.stream().mapToLong(Long::longValue).toArray(), Optional.ofNullable(t));
  }

  private TensorProto tensor() throws IOException {
    String name = "";
    int dataType = 0;
    List<Long> dims = new ArrayList<>();
    byte[] raw = null;
    FloatList floatData = new FloatList();
    List<Double> doubleData = new ArrayList<>();
    List<Long> int64Data = new ArrayList<>();
    List<Integer> int32Data = new ArrayList<>();
    List<Map.Entry<String, String>> external = new ArrayList<>();
    boolean externalLocation = false;
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (tag) {
        case 1 << 3 -> dims.add(in.readInt64());
        case (1 << 3) | 2 -> packed(() -> dims.add(in.readInt64()));
        case 2 << 3 -> dataType = in.readInt32();
        case (4 << 3) | 5 -> floatData.add(in.readFloat());
        case (4 << 3) | 2 -> packed(() -> floatData.add(in.readFloat()));
        case 5 << 3 -> int32Data.add(in.readInt32());
        case (5 << 3) | 2 -> packed(() -> int32Data.add(in.readInt32()));
        case 7 << 3 -> int64Data.add(in.readInt64());
        case (7 << 3) | 2 -> packed(() -> int64Data.add(in.readInt64()));
        case (8 << 3) | 2 -> name = in.readString();
        case (9 << 3) | 2 -> raw = in.readByteArray();
        case (10 << 3) | 1 -> doubleData.add(in.readDouble());
        case (10 << 3) | 2 -> packed(() -> doubleData.add(in.readDouble()));
        case (13 << 3) | 2 -> external.add(nested("external_data", this::entry));
        case 14 << 3 -> externalLocation = in.readEnum() == 1;
        default -> in.skipField(tag);
      }
    }
    if (externalLocation && external.isEmpty()) {
      throw new InvalidInputException(file, where(), "tensor " + name
          + ": data_location is EXTERNAL but no external_data entry says where");
    }
    return new TensorProto(name, dataType, dims.stream().mapToLong(Long::longValue).toArray(), raw,
        floatData.toArray(), doubleData.stream().mapToDouble(Double::doubleValue).toArray(),
        int64Data.stream().mapToLong(Long::longValue).toArray(), int32Data.stream().mapToInt(Integer::intValue)
        .toArray(), externalLocation ? List.copyOf(external) : List.of());
  }

  private Map.Entry<String, String> entry() throws IOException {
    String key = "";
    String value = "";
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (tag) {
        case (1 << 3) | 2 -> key = in.readString();
        case (2 << 3) | 2 -> value = in.readString();
        default -> in.skipField(tag);
      }
    }
    return Map.entry(key, value);
  }

  private ValueInfo valueInfo() throws IOException {
    String name = "";
    int[] elemType = {0};
    List<Long> dims = new ArrayList<>();
    boolean[] shaped = {false};
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (tag) {
        case (1 << 3) | 2 -> name = in.readString();
        case (2 << 3) | 2 -> nested("type", () -> {
          int t;
          while ((t = in.readTag()) != 0) {
            if (t == ((1 << 3) | 2)) {
              nested("tensor_type", () -> tensorType(elemType, dims, shaped));
            } else {
              in.skipField(t);
            }
          }
          return null;
        });
        default -> in.skipField(tag);
      }
    }
    return new ValueInfo(name, elemType[0], shaped[0] ? dims.stream().mapToLong(Long::longValue).toArray() : null);
  }

  private Void tensorType(int[] elemType, List<Long> dims, boolean[] shaped) throws IOException {
    int tag;
    while ((tag = in.readTag()) != 0) {
      switch (tag) {
        case 1 << 3 -> elemType[0] = in.readInt32();
        case (2 << 3) | 2 -> {
          shaped[0] = true;
          nested("shape", () -> {
            int t;
            while ((t = in.readTag()) != 0) {
              if (t == ((1 << 3) | 2)) {
                dims.add(nested("dim", this::dimension));
              } else {
                in.skipField(t);
              }
            }
            return null;
          });
        }
        default -> in.skipField(tag);
      }
    }
    return null;
  }

  private Long dimension() throws IOException {
    long value = -1;
    int tag;
    while ((tag = in.readTag()) != 0) {
      if (tag == 1 << 3) {
        value = in.readInt64();
      } else {
        in.skipField(tag);
      }
    }
    return value;
  }

  /** A reading step that may throw. */
  private interface Step<T> {
    T read() throws IOException;
  }

  /** Reads one length-delimited message with {@code step}, inside its own limit. */
  private <T> T nested(String field, Step<T> step) throws IOException {
    path.push(field);
    // pushLimit refuses a negative length, and one beyond the enclosing message, as corrupt
    int old = in.pushLimit(in.readRawVarint32());
    T value = step.read();
    path.pop();
    in.popLimit(old);
    return value;
  }

  /** Reads a packed repeated field, one element per {@code element} call. */
  private void packed(Step<?> element) throws IOException {
    // pushLimit refuses a negative length, and one beyond the enclosing message, as corrupt
    int old = in.pushLimit(in.readRawVarint32());
    while (!in.isAtEnd()) {
      element.read();
    }
    in.popLimit(old);
  }

  /** float_data without boxing: initializers hold millions of floats. */
  private static final class FloatList {
    private float[] values = new float[16];
    private int size;

    boolean add(float v) {
      if (size == values.length) {
        values = java.util.Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
      return true;
    }

    float[] toArray() {
      return java.util.Arrays.copyOf(values, size);
    }
  }
}
