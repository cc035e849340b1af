package dev.bncheck.load.array;

import dev.bncheck.model.Float16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The element types bncheck reads from .npy files. float64 stays float64; every other number type
 * is widened or converted to float32, the precision activations are kept in (calibration images
 * are often uint8). Strings ({@code S}: bytes, {@code U}: UTF-32 code points) are fed to string
 * inputs, such as a WAV file's bytes; their length is part of the type ({@code |S5}, {@code <U5}).
 */
enum NpyDtype {
  FLOAT16('f', 2),
  FLOAT32('f', 4),
  FLOAT64('f', 8),
  BOOL('b', 1),
  INT8('i', 1),
  UINT8('u', 1),
  INT16('i', 2),
  UINT16('u', 2),
  INT32('i', 4),
  UINT32('u', 4),
  INT64('i', 8),
  UINT64('u', 8),
  /** NumPy bytes: {@link #itemSize} is per character, the length comes from the descr. */
  BYTES('S', 1),
  /** NumPy unicode: four bytes per character, UTF-32 in the descr's byte order. */
  UNICODE('U', 4);

  private static final String SUPPORTED = "bncheck reads float, integer, bool and string (S, U) arrays";

  /**
   * Longest string element: a Java array holds at most this many bytes, and NumPy pads every
   * element to the longest, so a longer one is a forged header rather than data.
   */
  static final long MAX_STRING_BYTES = Integer.MAX_VALUE - 8;

  private final char kind;
  final int itemSize;

  NpyDtype(char kind, int itemSize) {
    this.kind = kind;
    this.itemSize = itemSize;
  }

  /**
   * An element type, the byte order of its values and the bytes of one element (for strings,
   * their declared length times {@link #itemSize}).
   */
  record Typed(NpyDtype dtype, ByteOrder order, long itemSize) {}

  boolean isString() {
    return this == BYTES || this == UNICODE;
  }

  /** Why a descr is refused, as the text after "header: ". */
  static final class Unsupported extends Exception {
    private static final long serialVersionUID = 1L;

    Unsupported(String problem) {
      super(problem);
    }
  }

  /** Parses a numpy type string such as {@code <f4} or {@code |u1}. */
  static Typed parse(String descr) throws Unsupported {
    String shown = "unsupported dtype '" + PythonLiteral.abbreviate(descr) + "'";
    char order = descr.isEmpty() ? ' ' : descr.charAt(0);
    boolean hasOrder = order == '<' || order == '>' || order == '|' || order == '=';
    String body = hasOrder ? descr.substring(1) : descr;
    if (body.isEmpty()) {
      throw new Unsupported(shown);
    }
    char kind = body.charAt(0);
    if (kind == 'S' || kind == 'a' || kind == 'U') {
      return string(kind == 'U' ? UNICODE : BYTES, order, body.substring(1), shown);
    }
    String why = switch (kind) {
      case 'c' -> "complex numbers";
      case 'O' -> "Python objects, stored pickled; bncheck never unpickles: save strings as"
          + " np.array(values, dtype=bytes) or dtype=str";
      case 'V' -> "raw bytes or records";
      case 'M', 'm' -> "dates or time spans";
      default -> null;
    };
    if (why != null) {
      throw new Unsupported(shown + " (" + why + "); " + SUPPORTED);
    }
    int size = body.length() == 2 && Character.isDigit(body.charAt(1)) ? body.charAt(1) - '0' : -1;
    for (NpyDtype dtype : values()) {
      if (dtype.kind == kind && dtype.itemSize == size) {
        if (dtype.itemSize == 1) {
          return new Typed(dtype, ByteOrder.LITTLE_ENDIAN, 1);
        }
        if (order == '<') {
          return new Typed(dtype, ByteOrder.LITTLE_ENDIAN, dtype.itemSize);
        }
        if (order == '>') {
          return new Typed(dtype, ByteOrder.BIG_ENDIAN, dtype.itemSize);
        }
        // numpy always writes '<' or '>' for multi-byte types; '=' would mean "whatever the
        // writing machine used", which the file does not record.
        throw new Unsupported(shown + " (no explicit byte order; expected '<' or '>')");
      }
    }
    throw new Unsupported(shown + "; " + SUPPORTED);
  }

  /** A string type: its length in characters follows the kind ({@code S5}, {@code U12}). */
  private static Typed string(NpyDtype dtype, char order, String length, String shown) throws Unsupported {
    if (length.isEmpty() || length.length() > 10 || !length.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new Unsupported(shown + " (a string type needs its length in characters, such as '|S5' or '<U5')");
    }
    long itemSize = Long.parseLong(length) * dtype.itemSize;
    if (itemSize == 0) {
      throw new Unsupported(shown + " (strings of length 0 hold nothing to feed)");
    }
    if (itemSize > MAX_STRING_BYTES) {
      throw new Unsupported(shown + " (elements of " + itemSize + " bytes, more than the " + MAX_STRING_BYTES
          + " one string can hold)");
    }
    if (dtype == BYTES) {
      return new Typed(dtype, ByteOrder.LITTLE_ENDIAN, itemSize);
    }
    if (order == '<' || order == '>') {
      return new Typed(dtype, order == '<' ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN, itemSize);
    }
    // UTF-32 needs a byte order as any multi-byte number does; numpy writes '<' or '>'.
    throw new Unsupported(shown + " (no explicit byte order; expected '<' or '>')");
  }

  /** Moves {@code n} values from the buffer's position into {@code out[offset...]}. */
  void toFloats(ByteBuffer in, int n, float[] out, int offset) {
    int end = offset + n;
    switch (this) {
      case FLOAT32 -> {
        in.asFloatBuffer().get(out, offset, n);
        in.position(in.position() + 4 * n);
      }
      case FLOAT16 -> {
        for (int i = offset; i < end; i++) {
          out[i] = Float16.toFloat(in.getShort());
        }
      }
      case BOOL -> {
        for (int i = offset; i < end; i++) {
          out[i] = in.get() != 0 ? 1f : 0f;
        }
      }
      case INT8 -> {
        for (int i = offset; i < end; i++) {
          out[i] = in.get();
        }
      }
      case UINT8 -> {
        for (int i = offset; i < end; i++) {
          out[i] = in.get() & 0xff;
        }
      }
      case INT16 -> {
        for (int i = offset; i < end; i++) {
          out[i] = in.getShort();
        }
      }
      case UINT16 -> {
        for (int i = offset; i < end; i++) {
          out[i] = in.getShort() & 0xffff;
        }
      }
      case FLOAT64, INT32, UINT32, INT64, UINT64 -> throw new IllegalStateException(this + " is read as doubles");
      case BYTES, UNICODE -> throw new IllegalStateException("strings are read as strings");
    }
  }

  /**
   * Whether the values are read as float64: float64 itself, and integers of 32 and 64 bits, which
   * float32 would round beyond 2^24 (an id or index must reach the model as it was written).
   */
  boolean readsAsDoubles() {
    return this == FLOAT64 || this == INT32 || this == UINT32 || this == INT64 || this == UINT64;
  }

  /** Moves {@code n} values of a type {@link #readsAsDoubles read as doubles} into {@code out[offset...]}. */
  void toDoubles(ByteBuffer in, int n, double[] out, int offset) {
    int end = offset + n;
    switch (this) {
      case FLOAT64 -> {
        in.asDoubleBuffer().get(out, offset, n);
        in.position(in.position() + 8 * n);
      }
      case INT32 -> {
        for (int i = offset; i < end; i++) {
          out[i] = in.getInt();
        }
      }
      case UINT32 -> {
        for (int i = offset; i < end; i++) {
          out[i] = in.getInt() & 0xffffffffL;
        }
      }
      case INT64 -> {
        for (int i = offset; i < end; i++) {
          out[i] = in.getLong();
        }
      }
      case UINT64 -> {
        for (int i = offset; i < end; i++) {
          out[i] = unsignedToDouble(in.getLong());
        }
      }
      default -> throw new IllegalStateException(this + " is read as floats");
    }
  }

  /** An unsigned 64-bit value rounded to the nearest double. */
  static double unsignedToDouble(long value) {
    if (value >= 0) {
      return value;
    }
    // Halve, keeping the lost bit as a sticky bit so that rounding stays correct, then double.
    return ((double) ((value >>> 1) | (value & 1))) * 2.0;
  }

}
