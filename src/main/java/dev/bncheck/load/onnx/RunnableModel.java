package dev.bncheck.load.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import dev.bncheck.load.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The copy of a model that ONNX Runtime runs, made from the file's bytes: every field is kept
 * byte for byte except that tensors in side files are inlined (read through
 * {@link ExternalData}'s checks: the runtime reads no file), the tensors bncheck captures become
 * graph outputs (ONNX Runtime returns graph outputs only), and nodes may be replaced (the
 * training view) or read other tensors, and initializers replaced (new moving statistics).
 */
final class RunnableModel {

  private static final int MODEL_GRAPH = 7;
  private static final int GRAPH_NODE = 1;
  private static final int GRAPH_INITIALIZER = 5;
  private static final int GRAPH_OUTPUT = 12;
  private static final int NODE_INPUT = 1;
  private static final int NODE_OUTPUT = 2;
  private static final int NODE_ATTRIBUTE = 5;
  private static final int ATTRIBUTE_NAME = 1;
  private static final int TENSOR_RAW_DATA = 9;
  private static final int TENSOR_EXTERNAL_DATA = 13;
  private static final int TENSOR_DATA_LOCATION = 14;

  /**
   * Changes to the main graph beyond the extra outputs.
   *
   * @param replaced serialized NodeProtos that take the place of the node at each index
   * @param initializers serialized TensorProtos added to the graph
   * @param replacedInitializers serialized TensorProtos that take the place of the initializer of each name
   * @param changed changes to the node at each index, which otherwise stays as it is
   */
  record Edit(Map<Integer, List<byte[]>> replaced, List<byte[]> initializers, Map<String, byte[]> replacedInitializers,
      Map<Integer, NodeChange> changed) {
    static final Edit NONE = new Edit(Map.of(), List.of());

    Edit(Map<Integer, List<byte[]>> replaced, List<byte[]> initializers) {
      this(replaced, initializers, Map.of(), Map.of());
    }
  }

  /**
   * A change to a BatchNormalization node.
   *
   * @param inputs the inputs (by position) it reads from another tensor
   * @param inferenceMode whether it is switched to inference mode: its outputs beyond Y and its
   *     training_mode attribute are left out (the form of inference mode from opset 9)
   */
  record NodeChange(Map<Integer, String> inputs, boolean inferenceMode) {}

  private RunnableModel() {}

  /**
   * @param outputs tensors to add to the graph's outputs; those already among them are not repeated
   */
  static byte[] build(String file, byte[] bytes, OnnxProto.Model model, ExternalData external, List<String> outputs,
      Edit edit) {
    boolean onlyOutputs = edit.equals(Edit.NONE)
        && model.graph().initializers().stream().noneMatch(OnnxProto.TensorProto::isExternal);
    return build(file, bytes, model, external, outputs, edit, onlyOutputs);
  }

  /**
   * @param onlyOutputs whether the graph's fields are all kept as they are: its bytes are then
   *     copied once, straight into the result, with the outputs after them (the same bytes as a
   *     rewrite field by field, which on a 100 MB model had copied it three times, for 1.2 s of
   *     the check of a ResNet-50 that has the copy built twice)
   */
  static byte[] build(String file, byte[] bytes, OnnxProto.Model model, ExternalData external, List<String> outputs,
      Edit edit, boolean onlyOutputs) {
    try {
      // The new graph first, then the model's other bytes around it in an array of the exact
      // size: a growing buffer and its final copy had held the model up to four times over (a
      // model of 1.5 GB of external data needed a 9 GB heap)
      byte[] newGraph = null;
      int[] graphContent = null;
      int graphStart = bytes.length;
      int graphEnd = bytes.length;
      CodedInputStream scan = CodedInputStream.newInstance(bytes);
      while (true) {
        int start = scan.getTotalBytesRead();
        int tag = scan.readTag();
        if (tag == 0) {
          break;
        }
        if (tag == ((MODEL_GRAPH << 3) | 2)) {
          // one graph field: OnnxReader refuses a model with more (protobuf would merge them)
          int length = scan.readRawVarint32();
          int at = scan.getTotalBytesRead();
          scan.skipRawBytes(length);
          newGraph = onlyOutputs ? null : graph(file, bytes, at, length, model, external, outputs, edit);
          graphContent = new int[] {at, length};
          graphStart = start;
          graphEnd = scan.getTotalBytesRead();
        } else {
          scan.skipField(tag);
        }
      }
      byte[] addedOutputs = onlyOutputs && graphContent != null ? outputFields(model, outputs) : new byte[0];
      long graphLength = newGraph != null ? newGraph.length
          : graphContent == null ? 0 : (long) graphContent[1] + addedOutputs.length;
      long size = (long) bytes.length - (graphEnd - graphStart) + (graphContent == null ? 0
          : CodedOutputStream.computeTagSize(MODEL_GRAPH) + CodedOutputStream.computeUInt64SizeNoTag(graphLength)
              + graphLength);
      if (size > Integer.MAX_VALUE - 8) {
        throw new InvalidInputException(file, "", "with its external data inlined the model holds " + size
            + " bytes, more than one protobuf message can (2 GB); ONNX Runtime cannot be given it");
      }
      byte[] result = new byte[(int) size];
      CodedOutputStream out = CodedOutputStream.newInstance(result);
      out.writeRawBytes(bytes, 0, graphStart);
      if (newGraph != null) {
        out.writeByteArray(MODEL_GRAPH, newGraph);
      } else if (graphContent != null) {
        out.writeTag(MODEL_GRAPH, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt32NoTag((int) graphLength);
        out.writeRawBytes(bytes, graphContent[0], graphContent[1]);
        out.writeRawBytes(addedOutputs);
      }
      out.writeRawBytes(bytes, graphEnd, bytes.length - graphEnd);
      out.checkNoSpaceLeft();
      return result;
    } catch (IOException e) {
      throw new InvalidInputException(file, "", "cannot copy the model for ONNX Runtime: " + e.getMessage(), e);
    }
  }

  private static byte[] graph(String file, byte[] bytes, int offset, int length, OnnxProto.Model model,
      ExternalData external, List<String> outputs, Edit edit) throws IOException {
    // room for the external data it inlines, so that the buffer does not double its way there
    long inlined = 0;
    for (OnnxProto.TensorProto t : model.graph().initializers()) {
      if (t.isExternal() && t.elementCount() >= 0) {
        inlined += t.elementCount() * elementBytes(file, t);
      }
    }
    ByteArrayOutputStream buffer = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 8,
        length + inlined + 1024));
    CodedOutputStream out = CodedOutputStream.newInstance(buffer);
    CodedInputStream in = CodedInputStream.newInstance(bytes, offset, length);
    int node = 0;
    int initializer = 0;
    while (true) {
      int start = in.getTotalBytesRead();
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      in.skipField(tag);
      int end = in.getTotalBytesRead();
      if (tag == ((GRAPH_NODE << 3) | 2) && edit.replaced().containsKey(node)) {
        for (byte[] replacement : edit.replaced().get(node)) {
          out.writeByteArray(GRAPH_NODE, replacement);
        }
      } else if (tag == ((GRAPH_NODE << 3) | 2) && edit.changed().containsKey(node)) {
        out.writeByteArray(GRAPH_NODE, changed(bytes, offset + start, end - start, edit.changed().get(node)));
      } else if (tag == ((GRAPH_INITIALIZER << 3) | 2)
          && edit.replacedInitializers().containsKey(model.graph().initializers().get(initializer).name())) {
        out.writeByteArray(GRAPH_INITIALIZER,
            edit.replacedInitializers().get(model.graph().initializers().get(initializer).name()));
      } else if (tag == ((GRAPH_INITIALIZER << 3) | 2)
          && model.graph().initializers().get(initializer).isExternal()) {
        OnnxProto.TensorProto t = model.graph().initializers().get(initializer);
        byte[] data = external.read(t, t.elementCount() * elementBytes(file, t));
        writeInlined(out, bytes, offset + start, end - start, data);
      } else {
        out.writeRawBytes(bytes, offset + start, end - start);
      }
      node += tag == ((GRAPH_NODE << 3) | 2) ? 1 : 0;
      initializer += tag == ((GRAPH_INITIALIZER << 3) | 2) ? 1 : 0;
    }
    for (byte[] t : edit.initializers()) {
      out.writeByteArray(GRAPH_INITIALIZER, t);
    }
    out.writeRawBytes(outputFields(model, outputs));
    out.flush();
    return buffer.toByteArray();
  }

  /** The graph's output fields for {@code outputs}, those already among them left out. */
  private static byte[] outputFields(OnnxProto.Model model, List<String> outputs) throws IOException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(buffer);
    Set<String> present = new java.util.HashSet<>();
    model.graph().outputs().forEach(o -> present.add(o.name()));
    for (String name : outputs) {
      if (present.add(name)) {
        out.writeByteArray(GRAPH_OUTPUT, valueInfo(name));
      }
    }
    out.flush();
    return buffer.toByteArray();
  }

  /**
   * Writes the initializer field's TensorProto with its external data as raw_data, straight into
   * {@code out}: a TensorProto of its own and its copy had held the data twice more.
   */
  private static void writeInlined(CodedOutputStream out, byte[] bytes, int fieldStart, int fieldLength, byte[] data)
      throws IOException {
    CodedInputStream field = CodedInputStream.newInstance(bytes, fieldStart, fieldLength);
    field.readTag();
    int length = field.readRawVarint32();
    int at = fieldStart + field.getTotalBytesRead();
    List<int[]> kept = new java.util.ArrayList<>();
    long size = CodedOutputStream.computeByteArraySize(TENSOR_RAW_DATA, data);
    CodedInputStream in = CodedInputStream.newInstance(bytes, at, length);
    while (true) {
      int start = in.getTotalBytesRead();
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      in.skipField(tag);
      int number = tag >>> 3;
      if (number != TENSOR_EXTERNAL_DATA && number != TENSOR_DATA_LOCATION && number != TENSOR_RAW_DATA) {
        kept.add(new int[] {at + start, in.getTotalBytesRead() - start});
        size += in.getTotalBytesRead() - start;
      }
    }
    if (size > Integer.MAX_VALUE - 8) {
      throw new IOException("a tensor of " + size + " bytes with its data inlined, more than one protobuf message holds");
    }
    out.writeTag(GRAPH_INITIALIZER, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
    out.writeUInt32NoTag((int) size);
    for (int[] range : kept) {
      out.writeRawBytes(bytes, range[0], range[1]);
    }
    out.writeByteArray(TENSOR_RAW_DATA, data);
  }

  /** The node field's NodeProto with the change made; every other field as it is. */
  private static byte[] changed(byte[] bytes, int fieldStart, int fieldLength, NodeChange change)
      throws IOException {
    CodedInputStream field = CodedInputStream.newInstance(bytes, fieldStart, fieldLength);
    field.readTag();
    int length = field.readRawVarint32();
    int at = fieldStart + field.getTotalBytesRead();
    CodedInputStream in = CodedInputStream.newInstance(bytes, at, length);
    ByteArrayOutputStream buffer = new ByteArrayOutputStream(length + 64);
    CodedOutputStream out = CodedOutputStream.newInstance(buffer);
    int input = 0;
    int output = 0;
    while (true) {
      int start = in.getTotalBytesRead();
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      if (tag == ((NODE_INPUT << 3) | 2)) {
        String name = in.readString();
        out.writeString(NODE_INPUT, change.inputs().getOrDefault(input++, name));
      } else if (change.inferenceMode() && tag == ((NODE_OUTPUT << 3) | 2) && output++ > 0) {
        in.skipField(tag);
      } else if (change.inferenceMode() && tag == ((NODE_ATTRIBUTE << 3) | 2)
          && attributeName(bytes, at + start).equals("training_mode")) {
        in.skipField(tag);
      } else {
        in.skipField(tag);
        out.writeRawBytes(bytes, at + start, in.getTotalBytesRead() - start);
      }
    }
    out.flush();
    return buffer.toByteArray();
  }

  /** The name of the AttributeProto whose field starts at {@code fieldStart}. */
  private static String attributeName(byte[] bytes, int fieldStart) throws IOException {
    CodedInputStream field = CodedInputStream.newInstance(bytes, fieldStart, bytes.length - fieldStart);
    field.readTag();
    int old = field.pushLimit(field.readRawVarint32());
    while (!field.isAtEnd()) {
      int tag = field.readTag();
      if (tag == ((ATTRIBUTE_NAME << 3) | 2)) {
        return field.readString();
      }
      field.skipField(tag);
    }
    field.popLimit(old);
    return "";
  }

  /** A ValueInfoProto with only a name: ONNX Runtime infers the type of an output it computes. */
  private static byte[] valueInfo(String name) throws IOException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(buffer);
    out.writeString(1, name);
    out.flush();
    return buffer.toByteArray();
  }

  private static int elementBytes(String file, OnnxProto.TensorProto t) {
    int width = switch (t.dataType()) {
      case OnnxProto.FLOAT, OnnxProto.INT32 -> 4;
      case OnnxProto.DOUBLE, OnnxProto.INT64 -> 8;
      case OnnxProto.FLOAT16, OnnxProto.BFLOAT16, OnnxProto.INT16, OnnxProto.UINT16 -> 2;
      case OnnxProto.UINT8, OnnxProto.INT8, OnnxProto.BOOL -> 1;
      default -> 0;
    };
    if (width == 0 || t.elementCount() < 0) {
      throw new InvalidInputException(file, "tensor " + t.name(), "external data of "
          + OnnxProto.typeName(t.dataType()) + " with dimensions " + java.util.Arrays.toString(t.dims())
          + ", which bncheck does not inline");
    }
    return width;
  }
}
