package dev.bncheck.engine;

import static dev.bncheck.engine.AllClose.assertAllClose;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.ThirdPartyFixtures;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pins the ND4J reference's inference mode to PyTorch's BatchNorm1d/2d/3d in eval mode, from
 * the ONNX backend-test models in the {@code onnx-pytorch-bn} fixtures: the model holds
 * the parameters as initializers and epsilon as an attribute, the test data one input and
 * PyTorch's output, each a serialized ONNX TensorProto read here with a minimal protobuf
 * wire-format reader.
 */
class PyTorchReferenceTest {

  private static final int ONNX_FLOAT = 1;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "test_BatchNorm1d_3d_input_eval",
      "test_BatchNorm2d_eval",
      "test_BatchNorm2d_momentum_eval",
      "test_BatchNorm3d_eval",
      "test_BatchNorm3d_momentum_eval"})
  void inferenceOutputMatchesPyTorchEvalMode(String name) throws IOException {
    Path dir = ThirdPartyFixtures.require("onnx-pytorch-bn/" + name);

    OnnxBatchNorm bn = OnnxBatchNorm.read(Files.readAllBytes(dir.resolve("model.onnx")));
    OnnxTensor input = OnnxTensor.parse(Files.readAllBytes(dir.resolve("test_data_set_0/input_0.pb")));
    OnnxTensor output = OnnxTensor.parse(Files.readAllBytes(dir.resolve("test_data_set_0/output_0.pb")));
    assertThat(output.dims()).containsExactly(input.dims());
    // PyTorch BatchNorm is channel-first whatever the rank.
    int channels = input.dims()[1];
    assertThat(bn.gamma()).hasSize(channels);
    assertThat(bn.beta()).hasSize(channels);
    assertThat(bn.runningMean()).hasSize(channels);
    assertThat(bn.runningVariance()).hasSize(channels);
    // PyTorch's default epsilon is 1e-5; the *_momentum_* exports carry 1e-3.
    assertThat(bn.epsilon()).isEqualTo(name.contains("momentum") ? 1e-3f : 1e-5f);

    Tensor x = new Tensor.Float32(input.dims(), input.values());
    double[] y = Nd4jBatchNorm.inferenceMode(
        x, 1, bn.gamma(), bn.beta(), bn.runningMean(), bn.runningVariance(), bn.epsilon());
    assertAllClose(name + " ND4J inference-mode y vs PyTorch", y, widen(output.values()),
        Tolerances.PYTORCH_FLOAT32_ABSOLUTE, Tolerances.PYTORCH_FLOAT32_RELATIVE);
  }

  @Test
  void wireReaderDecodesPackedAndUnpackedFields() {
    // TensorProto{dims: 1 unpacked, data_type: 1, dims [2, 1] packed, float_data packed
    // [1.5, -2.0], name: "w"}
    byte[] bytes = {
        0x08, 0x01, 0x10, 0x01, 0x0A, 0x02, 0x02, 0x01,
        0x22, 0x08, 0x00, 0x00, (byte) 0xC0, 0x3F, 0x00, 0x00, 0x00, (byte) 0xC0,
        0x42, 0x01, 0x77};
    OnnxTensor t = OnnxTensor.parse(bytes);
    assertThat(t.dims()).containsExactly(1, 2, 1);
    assertThat(t.dataType()).isEqualTo(ONNX_FLOAT);
    assertThat(t.values()).containsExactly(1.5f, -2.0f);
    assertThat(t.name()).isEqualTo("w");
    // 300 = 0b10_0101100: low seven bits first, continuation bit set
    assertThat(new Wire(new byte[] {(byte) 0xAC, 0x02}).varint()).isEqualTo(300);
  }

  private static double[] widen(float[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  /** A BatchNormalization node's parameters, found by the node's input order X, scale, B, mean, var. */
  record OnnxBatchNorm(double[] gamma, double[] beta, double[] runningMean, double[] runningVariance, double epsilon) {

    static OnnxBatchNorm read(byte[] model) {
      Wire modelProto = new Wire(model);
      byte[] graph = null;
      while (modelProto.more()) {
        int tag = modelProto.tag();
        if (tag >>> 3 == 7 && (tag & 7) == 2) {
          graph = modelProto.bytes();
        } else {
          modelProto.skip(tag);
        }
      }
      assertThat(graph).as("ModelProto.graph").isNotNull();

      Map<String, OnnxTensor> initializers = new HashMap<>();
      List<byte[]> nodes = new ArrayList<>();
      Wire graphProto = new Wire(graph);
      while (graphProto.more()) {
        int tag = graphProto.tag();
        switch (tag) {
          case (1 << 3) | 2 -> nodes.add(graphProto.bytes());
          case (5 << 3) | 2 -> {
            OnnxTensor t = OnnxTensor.parse(graphProto.bytes());
            initializers.put(t.name(), t);
          }
          default -> graphProto.skip(tag);
        }
      }

      OnnxBatchNorm found = null;
      for (byte[] node : nodes) {
        List<String> inputs = new ArrayList<>();
        String opType = null;
        Double epsilon = null;
        Wire nodeProto = new Wire(node);
        while (nodeProto.more()) {
          int tag = nodeProto.tag();
          switch (tag) {
            case (1 << 3) | 2 -> inputs.add(nodeProto.string());
            case (4 << 3) | 2 -> opType = nodeProto.string();
            case (5 << 3) | 2 -> {
              Wire attribute = new Wire(nodeProto.bytes());
              String attributeName = null;
              Float f = null;
              while (attribute.more()) {
                int atag = attribute.tag();
                switch (atag) {
                  case (1 << 3) | 2 -> attributeName = attribute.string();
                  case (2 << 3) | 5 -> f = attribute.float32();
                  default -> attribute.skip(atag);
                }
              }
              if ("epsilon".equals(attributeName)) {
                epsilon = f.doubleValue();
              }
            }
            default -> nodeProto.skip(tag);
          }
        }
        if ("BatchNormalization".equals(opType)) {
          assertThat(found).as("one BatchNormalization node").isNull();
          assertThat(inputs).hasSize(5);
          found = new OnnxBatchNorm(
              widen(initializers.get(inputs.get(1)).values()),
              widen(initializers.get(inputs.get(2)).values()),
              widen(initializers.get(inputs.get(3)).values()),
              widen(initializers.get(inputs.get(4)).values()),
              // ONNX's default when the attribute is absent
              epsilon == null ? 1e-5f : epsilon);
        }
      }
      assertThat(found).as("BatchNormalization node").isNotNull();
      return found;
    }
  }

  /** An ONNX TensorProto of float32 values: dims (1), data_type (2), float_data (4), name (8), raw_data (9). */
  record OnnxTensor(int[] dims, int dataType, float[] values, String name) {

    static OnnxTensor parse(byte[] bytes) {
      List<Long> dims = new ArrayList<>();
      List<Float> floatData = new ArrayList<>();
      byte[] raw = null;
      int dataType = 0;
      String name = "";
      Wire wire = new Wire(bytes);
      while (wire.more()) {
        int tag = wire.tag();
        switch (tag) {
          case (1 << 3) | 0 -> dims.add(wire.varint());
          case (1 << 3) | 2 -> {
            Wire packed = new Wire(wire.bytes());
            while (packed.more()) {
              dims.add(packed.varint());
            }
          }
          case (2 << 3) | 0 -> dataType = (int) wire.varint();
          case (4 << 3) | 5 -> floatData.add(wire.float32());
          case (4 << 3) | 2 -> {
            Wire packed = new Wire(wire.bytes());
            while (packed.more()) {
              floatData.add(packed.float32());
            }
          }
          case (8 << 3) | 2 -> name = wire.string();
          case (9 << 3) | 2 -> raw = wire.bytes();
          default -> wire.skip(tag);
        }
      }
      assertThat(dataType).as("TensorProto %s data_type (1 = FLOAT)", name).isEqualTo(ONNX_FLOAT);
      float[] values;
      if (raw != null) {
        ByteBuffer buffer = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        values = new float[raw.length / 4];
        for (int i = 0; i < values.length; i++) {
          values[i] = buffer.getFloat();
        }
      } else {
        values = new float[floatData.size()];
        for (int i = 0; i < values.length; i++) {
          values[i] = floatData.get(i);
        }
      }
      int[] shape = dims.stream().mapToInt(Long::intValue).toArray();
      assertThat(values).as("TensorProto %s values for dims", name).hasSize((int) Tensor.elementCount(shape));
      return new OnnxTensor(shape, dataType, values, name);
    }
  }

  /** Protocol buffers wire format: varints, fixed 32/64-bit and length-delimited fields. */
  static final class Wire {
    private final byte[] bytes;
    private int position;

    Wire(byte[] bytes) {
      this.bytes = bytes;
    }

    boolean more() {
      return position < bytes.length;
    }

    int tag() {
      return (int) varint();
    }

    long varint() {
      long value = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        byte b = bytes[position++];
        value |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          return value;
        }
      }
      throw new IllegalArgumentException("varint longer than 10 bytes");
    }

    byte[] bytes() {
      int length = (int) varint();
      byte[] out = new byte[length];
      System.arraycopy(bytes, position, out, 0, length);
      position += length;
      return out;
    }

    String string() {
      return new String(bytes(), StandardCharsets.UTF_8);
    }

    float float32() {
      float f = ByteBuffer.wrap(bytes, position, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
      position += 4;
      return f;
    }

    void skip(int tag) {
      switch (tag & 7) {
        case 0 -> varint();
        case 1 -> position += 8;
        case 2 -> bytes();
        case 5 -> position += 4;
        default -> throw new IllegalArgumentException("wire type " + (tag & 7) + " at byte " + position);
      }
    }
  }
}
