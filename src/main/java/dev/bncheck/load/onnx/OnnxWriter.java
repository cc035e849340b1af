package dev.bncheck.load.onnx;

import com.google.protobuf.CodedOutputStream;
import dev.bncheck.model.Float16;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Serializes the few ONNX messages bncheck adds to a model: tensors, and any message field by field. */
final class OnnxWriter {

  private OnnxWriter() {}

  /** A float32 TensorProto of the values, rounded to float32. */
  static byte[] floats(String name, long[] dims, double[] values) {
    ByteBuffer raw = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (double v : values) {
      raw.putFloat((float) v);
    }
    return tensor(name, OnnxProto.FLOAT, dims, raw.array());
  }

  /** A one-dimensional int64 TensorProto. */
  static byte[] int64s(String name, long[] values) {
    ByteBuffer raw = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      raw.putLong(v);
    }
    return tensor(name, OnnxProto.INT64, new long[] {values.length}, raw.array());
  }

  /** A TensorProto holding its values as raw_data (little-endian, as ONNX stores it). */
  static byte[] tensor(String name, int dataType, long[] dims, byte[] raw) {
    return message(out -> {
      for (long d : dims) {
        out.writeInt64(1, d);
      }
      out.writeInt32(2, dataType);
      out.writeString(8, name);
      out.writeByteArray(9, raw);
    });
  }

  /** Writes a message's fields. */
  interface Writer {
    void write(CodedOutputStream out) throws IOException;
  }

  /** The message the writer writes, serialized. */
  static byte[] message(Writer writer) {
    try {
      ByteArrayOutputStream buffer = new ByteArrayOutputStream();
      CodedOutputStream out = CodedOutputStream.newInstance(buffer);
      writer.write(out);
      out.flush();
      return buffer.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A float16 TensorProto of the values, each rounded to the nearest half. */
  static byte[] halves(String name, long[] dims, double[] values) {
    ByteBuffer raw = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (double v : values) {
      raw.putShort(Float16.fromFloat((float) v));
    }
    return tensor(name, OnnxProto.FLOAT16, dims, raw.array());
  }

  /** A float64 TensorProto. */
  static byte[] doubles(String name, long[] dims, double[] values) {
    ByteBuffer raw = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (double v : values) {
      raw.putDouble(v);
    }
    return tensor(name, OnnxProto.DOUBLE, dims, raw.array());
  }
}
