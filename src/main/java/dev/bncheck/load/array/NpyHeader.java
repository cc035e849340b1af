package dev.bncheck.load.array;

import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The validated header of a .npy file (format versions 1.0, 2.0 and 3.0): what the data holds
 * and how many bytes the header took.
 *
 * @param itemSize the bytes of one element (for strings, their declared length in bytes)
 * @param length bytes from the start of the file to the first byte of data
 * @param count the number of elements, at most {@link Tensor#MAX_ELEMENTS}
 */
record NpyHeader(
    NpyDtype dtype, ByteOrder order, long itemSize, boolean fortranOrder, int[] shape, long count, long length) {

  static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

  /** numpy's own np.load refuses headers over 10000 bytes; real headers take 128 or 256. */
  static final int MAX_HEADER_LENGTH = 64 * 1024;

  /** numpy's limit on the number of dimensions (NPY_MAXDIMS in numpy 2). */
  static final int MAX_RANK = 64;

  private static final Set<String> KEYS = Set.of("descr", "fortran_order", "shape");

  /** The bytes of data the header declares. */
  long dataLength() {
    return count * itemSize;
  }

  /** Reads and checks the header, leaving the channel at the first byte of data. */
  static NpyHeader read(ReadableByteChannel in, ArraySource source) throws IOException {
    ByteBuffer prelude = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    int got = readFully(in, prelude);
    if (got < MAGIC.length || !prelude.slice(0, MAGIC.length).equals(ByteBuffer.wrap(MAGIC))) {
      throw source.error("", "not a .npy file (it does not start with the \\x93NUMPY magic)");
    }
    if (got < prelude.capacity()) {
      throw source.error("", "truncated: the file ends inside the .npy header");
    }
    int major = prelude.get(6) & 0xff;
    int minor = prelude.get(7) & 0xff;
    if (major < 1 || major > 3 || minor != 0) {
      throw source.error(
          "header",
          "unsupported .npy format version " + major + "." + minor
              + " (bncheck reads 1.0, 2.0 and 3.0)");
    }
    long headerLength;
    int preludeLength;
    if (major == 1) {
      headerLength = prelude.getShort(8) & 0xffff;
      preludeLength = 10;
    } else {
      ByteBuffer high = ByteBuffer.allocate(2);
      if (readFully(in, high) < 2) {
        throw source.error("", "truncated: the file ends inside the .npy header");
      }
      headerLength = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
          .put(prelude.array(), 8, 2).put(high.array()).getInt(0) & 0xffffffffL;
      preludeLength = 12;
    }
    if (headerLength > MAX_HEADER_LENGTH) {
      throw source.error(
          "header", "declares " + headerLength + " bytes, more than the " + MAX_HEADER_LENGTH + " allowed");
    }
    ByteBuffer bytes = ByteBuffer.allocate((int) headerLength);
    int headerGot = readFully(in, bytes);
    if (headerGot < headerLength) {
      throw source.error(
          "", "truncated: the header declares " + headerLength + " bytes, the file holds " + headerGot);
    }
    String text = decode(bytes.array(), major, source);
    Map<String, Object> dict;
    try {
      dict = PythonLiteral.parseDict(text);
    } catch (PythonLiteral.SyntaxError e) {
      throw source.error("header", e.getMessage());
    }
    return fromDict(dict, preludeLength + headerLength, source);
  }

  private static String decode(byte[] bytes, int major, ArraySource source) {
    if (major < 3) {
      return new String(bytes, StandardCharsets.ISO_8859_1);
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw source.error("header", "not valid UTF-8, which format version 3.0 requires");
    }
  }

  private static NpyHeader fromDict(Map<String, Object> dict, long length, ArraySource source) {
    for (String key : KEYS) {
      if (!dict.containsKey(key)) {
        throw source.error("header", "no '" + key + "' key");
      }
    }
    for (String key : dict.keySet()) {
      if (!KEYS.contains(key)) {
        throw source.error(
            "header",
            "unexpected key '" + PythonLiteral.abbreviate(key)
                + "' (a .npy header has 'descr', 'fortran_order' and 'shape')");
      }
    }
    NpyDtype.Typed typed = dtype(dict.get("descr"), source);
    if (!(dict.get("fortran_order") instanceof Boolean fortranOrder)) {
      throw source.error("header", "'fortran_order' is "
          + PythonLiteral.abbreviate(String.valueOf(dict.get("fortran_order"))) + ", expected True or False");
    }
    int[] shape = shape(dict.get("shape"), source);
    long count = Tensor.elementCount(shape);
    return new NpyHeader(typed.dtype(), typed.order(), typed.itemSize(), fortranOrder, shape, count, length);
  }

  private static NpyDtype.Typed dtype(Object descr, ArraySource source) {
    if (descr instanceof List<?>) {
      throw source.error(
          "header",
          "unsupported structured dtype (records of named fields); save each field as its own array");
    }
    if (!(descr instanceof String text)) {
      throw source.error("header", "'descr' is not a dtype string such as '<f4'");
    }
    try {
      return NpyDtype.parse(text);
    } catch (NpyDtype.Unsupported e) {
      throw source.error("header", e.getMessage());
    }
  }

  private static int[] shape(Object value, ArraySource source) {
    if (!(value instanceof List<?> dims)) {
      throw source.error("header", "'shape' is not a tuple of dimensions");
    }
    if (dims.size() > MAX_RANK) {
      throw source.error("header", "'shape' has " + dims.size() + " dimensions, more than " + MAX_RANK);
    }
    BigInteger product = BigInteger.ONE;
    for (Object dim : dims) {
      if (!(dim instanceof BigInteger d) || d.signum() < 0) {
        throw source.error("header", "'shape' " + describe(dims) + " is not a tuple of non-negative integers");
      }
      product = product.multiply(d);
    }
    if (product.compareTo(BigInteger.valueOf(Tensor.MAX_ELEMENTS)) > 0) {
      throw source.error(
          "",
          "shape " + describe(dims) + " has more than " + Tensor.MAX_ELEMENTS
              + " values; split the data into smaller batches");
    }
    int[] shape = new int[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      BigInteger d = (BigInteger) dims.get(i);
      if (d.bitLength() > 31) {
        // Only possible beside a zero dimension, which makes the array empty.
        throw source.error("header", "'shape' " + describe(dims) + " has a dimension out of range");
      }
      shape[i] = d.intValueExact();
    }
    return shape;
  }

  /** The shape as Python writes it. */
  String describeShape() {
    return describe(Arrays.stream(shape).boxed().toList());
  }

  /** A shape as Python writes it: {@code ()}, {@code (3,)}, {@code (2, 3)}. */
  static String describe(List<?> dims) {
    StringBuilder out = new StringBuilder("(");
    for (int i = 0; i < dims.size(); i++) {
      out.append(i == 0 ? "" : ", ").append(PythonLiteral.abbreviate(String.valueOf(dims.get(i))));
    }
    return out.append(dims.size() == 1 ? ",)" : ")").toString();
  }

  /** Reads until the buffer is full or the input ends; returns the bytes read. */
  static int readFully(ReadableByteChannel in, ByteBuffer buffer) throws IOException {
    int total = 0;
    while (buffer.hasRemaining()) {
      int n = in.read(buffer);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }
}
