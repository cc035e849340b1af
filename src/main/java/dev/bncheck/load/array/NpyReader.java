package dev.bncheck.load.array;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.JavaHeap;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;

/**
 * Reads a NumPy .npy file (format versions 1.0, 2.0 and 3.0) into a {@link Tensor}, or, where
 * strings are wanted, into an {@link InputArray}.
 *
 * <p>float64 arrays and integers of 32 and 64 bits become {@link Tensor.Float64} (an id beyond
 * 2^24 stays exact); float16, float32, integers of 8 and 16 bits and bools (0 or 1) become
 * {@link Tensor.Float32}, in either byte order. Bytes
 * ({@code S}) and unicode ({@code U}, stored as UTF-32) arrays become {@link InputArray.Strings},
 * each element without the NUL padding NumPy adds (NumPy drops it too), unicode encoded as UTF-8.
 * Fortran-ordered arrays are transposed to row-major. A 0-d array becomes a tensor of shape
 * {@code []} holding one value. Objects (which only unpickling could read), complex numbers and
 * structured dtypes are refused. The declared shape is checked against {@link Tensor#MAX_ELEMENTS},
 * the file's length and the room left in the Java heap before anything is allocated.
 */
public final class NpyReader {

  /** Data is converted in chunks, so a large file never sits in memory twice. */
  private static final int CHUNK_BYTES = 1 << 20;

  private NpyReader() {}

  /**
   * Reads the array of numbers of a .npy file.
   *
   * @throws InvalidInputException when the file is missing, unreadable, not a .npy file, of an
   *     unsupported dtype or of strings, too large, truncated, or followed by more bytes than its data
   */
  public static Tensor read(Path file) {
    return ((InputArray.Numbers) read(file, false)).tensor();
  }

  /**
   * Reads the array of a .npy file, numbers or strings.
   *
   * @throws InvalidInputException as {@link #read(Path)} does, strings apart; and when a unicode
   *     element holds a value that is not a Unicode character
   */
  public static InputArray readInput(Path file) {
    return read(file, true);
  }

  private static InputArray read(Path file, boolean strings) {
    ArraySource source = ArraySource.of(file.toString());
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      return read(channel, channel.size(), source, strings);
    } catch (NoSuchFileException e) {
      throw source.error("", "no such file or directory");
    } catch (AccessDeniedException e) {
      throw source.error("", "not readable");
    } catch (IOException e) {
      throw source.readFailed("", e);
    }
  }

  /**
   * Reads one array from the channel.
   *
   * @param size the bytes the channel holds from its position, checked against the header before
   *     the data is allocated
   * @param strings whether string arrays are accepted; numbers always are
   */
  static InputArray read(ReadableByteChannel in, long size, ArraySource source, boolean strings)
      throws IOException {
    NpyHeader header = NpyHeader.read(in, source);
    if (header.dtype().isString() && !strings) {
      throw source.error("header", "holds strings, where numbers are expected");
    }
    long expected = header.dataLength();
    long available = size - header.length();
    if (available < expected) {
      throw truncated(source, expected, available);
    }
    if (available > expected) {
      throw trailingBytes(source, expected, String.valueOf(available - expected));
    }
    // A sparse file has every byte it declares and costs no disk; memory is the limit that remains.
    // A string costs its bytes (UTF-8 takes at most the four bytes UTF-32 does) and an array's header.
    long perElement = header.dtype().isString() ? header.itemSize() + 16 : header.dtype().readsAsDoubles() ? 8 : 4;
    long memory = header.count() * perElement
        * (header.fortranOrder() && needsTranspose(header.shape()) ? 2 : 1);
    if (!JavaHeap.fits(memory)) {
      throw source.error("", "shape " + header.describeShape() + " " + JavaHeap.tooLarge(memory));
    }
    InputArray array = header.dtype().isString()
        ? readStrings(in, header, source)
        : new InputArray.Numbers(readData(in, header, source));
    // The size came from a directory (of the file system or a ZIP) that may not match the stream.
    if (NpyHeader.readFully(in, ByteBuffer.allocate(1)) > 0) {
      throw trailingBytes(source, expected, "more");
    }
    return array;
  }

  /** Reads string elements one at a time: each is as long as the longest, and the padding goes. */
  private static InputArray readStrings(ReadableByteChannel in, NpyHeader header, ArraySource source)
      throws IOException {
    int count = (int) header.count();
    byte[] element = new byte[(int) header.itemSize()];
    ByteBuffer buffer = ByteBuffer.wrap(element).order(header.order());
    byte[][] values = new byte[count][];
    for (int i = 0; i < count; i++) {
      buffer.clear();
      int got = NpyHeader.readFully(in, buffer);
      if (got < element.length) {
        throw truncated(source, header.dataLength(), (long) i * element.length + got);
      }
      values[i] = header.dtype() == NpyDtype.BYTES ? withoutPadding(element) : utf8(buffer, i, source);
    }
    int[] shape = header.shape();
    if (header.fortranOrder() && needsTranspose(shape)) {
      byte[][] columnMajor = values;
      byte[][] rowMajor = new byte[count][];
      fromFortranOrder(shape, (to, from) -> rowMajor[to] = columnMajor[from]);
      values = rowMajor;
    }
    return new InputArray.Strings(shape, values);
  }

  private static byte[] withoutPadding(byte[] element) {
    int end = element.length;
    while (end > 0 && element[end - 1] == 0) {
      end--;
    }
    return Arrays.copyOf(element, end);
  }

  /** One UTF-32 element, its NUL padding dropped, as UTF-8. */
  private static byte[] utf8(ByteBuffer element, int index, ArraySource source) {
    int[] codePoints = new int[element.capacity() / 4];
    int end = 0;
    for (int k = 0; k < codePoints.length; k++) {
      int c = element.getInt(4 * k);
      // Python strings may hold lone surrogates, which no UTF-8 string (what TensorFlow holds) can.
      if (c < 0 || c > Character.MAX_CODE_POINT || (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE)) {
        throw source.error("element " + index, String.format(Locale.ROOT,
            "character %d is 0x%08X, which is not a Unicode character (a unicode array holds UTF-32)", k, c));
      }
      codePoints[k] = c;
      if (c != 0) {
        end = k + 1;
      }
    }
    return new String(codePoints, 0, end).getBytes(StandardCharsets.UTF_8);
  }

  private static Tensor readData(ReadableByteChannel in, NpyHeader header, ArraySource source)
      throws IOException {
    int count = (int) header.count();
    NpyDtype dtype = header.dtype();
    int itemSize = dtype.itemSize;
    long expected = header.dataLength();
    ByteBuffer buffer = ByteBuffer.allocateDirect((int) Math.max(itemSize, Math.min(CHUNK_BYTES, expected)))
        .order(header.order());
    float[] floats = dtype.readsAsDoubles() ? null : new float[count];
    double[] doubles = dtype.readsAsDoubles() ? new double[count] : null;
    long bytesRead = 0;
    int done = 0;
    while (done < count) {
      buffer.limit(buffer.position() + (int) Math.min(buffer.remaining(), expected - bytesRead));
      int n = in.read(buffer);
      if (n < 0) {
        throw truncated(source, expected, bytesRead);
      }
      bytesRead += n;
      buffer.flip();
      int values = buffer.remaining() / itemSize;
      if (floats != null) {
        dtype.toFloats(buffer, values, floats, done);
      } else {
        dtype.toDoubles(buffer, values, doubles, done);
      }
      done += values;
      buffer.compact();
    }
    int[] shape = header.shape();
    if (header.fortranOrder() && needsTranspose(shape)) {
      if (floats != null) {
        float[] columnMajor = floats;
        float[] rowMajor = new float[count];
        fromFortranOrder(shape, (to, from) -> rowMajor[to] = columnMajor[from]);
        floats = rowMajor;
      } else {
        double[] columnMajor = doubles;
        double[] rowMajor = new double[count];
        fromFortranOrder(shape, (to, from) -> rowMajor[to] = columnMajor[from]);
        doubles = rowMajor;
      }
    }
    return floats != null ? new Tensor.Float32(shape, floats) : new Tensor.Float64(shape, doubles);
  }

  private static InvalidInputException truncated(ArraySource source, long expected, long got) {
    return source.error("", "truncated: expected " + expected + " bytes of data, got " + got);
  }

  private static InvalidInputException trailingBytes(ArraySource source, long expected, String extra) {
    return source.error(
        "",
        extra + " bytes after the " + expected + " bytes of data the header declares;"
            + " bncheck reads one array per .npy file");
  }

  /** Column-major and row-major orders differ only when two dimensions exceed 1. */
  private static boolean needsTranspose(int[] shape) {
    int longDims = 0;
    for (int d : shape) {
      if (d > 1) {
        longDims++;
      }
    }
    return longDims > 1;
  }

  private interface IndexCopy {
    void copy(int rowMajorIndex, int columnMajorIndex);
  }

  /** Visits every element in row-major order with its column-major index. */
  private static void fromFortranOrder(int[] shape, IndexCopy copy) {
    int rank = shape.length;
    int[] stride = new int[rank];
    int s = 1;
    for (int k = 0; k < rank; k++) {
      stride[k] = s;
      s *= shape[k];
    }
    int count = s;
    int[] at = new int[rank];
    int from = 0;
    for (int to = 0; to < count; to++) {
      copy.copy(to, from);
      for (int k = rank - 1; k >= 0; k--) {
        from += stride[k];
        if (++at[k] < shape[k]) {
          break;
        }
        from -= shape[k] * stride[k];
        at[k] = 0;
      }
    }
  }
}
