package dev.bncheck.load.pytorch;

import dev.bncheck.model.Float16;
import java.nio.ByteBuffer;
import java.util.Optional;

/** The element types a checkpoint's tensors come in, by their names in torch.save and safetensors. */
enum TorchDtype {
  FLOAT32("FloatStorage", "F32", 4),
  FLOAT64("DoubleStorage", "F64", 8),
  FLOAT16("HalfStorage", "F16", 2),
  BFLOAT16("BFloat16Storage", "BF16", 2),
  INT64("LongStorage", "I64", 8),
  INT32("IntStorage", "I32", 4),
  INT16("ShortStorage", "I16", 2),
  INT8("CharStorage", "I8", 1),
  UINT8("ByteStorage", "U8", 1),
  BOOL("BoolStorage", "BOOL", 1);

  private final String storageClass;
  private final String safetensorsName;
  private final int bytes;

  TorchDtype(String storageClass, String safetensorsName, int bytes) {
    this.storageClass = storageClass;
    this.safetensorsName = safetensorsName;
    this.bytes = bytes;
  }

  int bytes() {
    return bytes;
  }

  boolean isFloating() {
    return this == FLOAT32 || this == FLOAT64 || this == FLOAT16 || this == BFLOAT16;
  }

  /** The dtype of a storage class such as {@code torch.FloatStorage}. */
  static Optional<TorchDtype> ofStorage(String module, String name) {
    if (!module.equals("torch")) {
      return Optional.empty();
    }
    for (TorchDtype d : values()) {
      if (d.storageClass.equals(name)) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  static Optional<TorchDtype> ofSafetensors(String name) {
    for (TorchDtype d : values()) {
      if (d.safetensorsName.equals(name)) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  /** The element at byte {@code at} of a buffer in the file's byte order. */
  double read(ByteBuffer buffer, int at) {
    return switch (this) {
      case FLOAT32 -> buffer.getFloat(at);
      case FLOAT64 -> buffer.getDouble(at);
      case FLOAT16 -> Float16.toFloat(buffer.getShort(at));
      // bfloat16 is the upper half of a float32
      case BFLOAT16 -> Float.intBitsToFloat((buffer.getShort(at) & 0xffff) << 16);
      case INT64 -> buffer.getLong(at);
      case INT32 -> buffer.getInt(at);
      case INT16 -> buffer.getShort(at);
      case INT8 -> buffer.get(at);
      case UINT8 -> buffer.get(at) & 0xff;
      case BOOL -> buffer.get(at) != 0 ? 1 : 0;
    };
  }

  /** The integer element at byte {@code at}, exact beyond 2^53 where {@link #read} rounds. */
  long readLong(ByteBuffer buffer, int at) {
    return switch (this) {
      case INT64 -> buffer.getLong(at);
      case INT32 -> buffer.getInt(at);
      case INT16 -> buffer.getShort(at);
      case INT8 -> buffer.get(at);
      case UINT8 -> buffer.get(at) & 0xff;
      case BOOL -> buffer.get(at) != 0 ? 1 : 0;
      default -> throw new IllegalStateException(this + " is not an integer type");
    };
  }

  /** As PyTorch names it, for messages. */
  String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
