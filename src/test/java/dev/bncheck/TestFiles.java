package dev.bncheck;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;

/** Files for tests: a copy of a model to change without touching the committed one, calibration data. */
public final class TestFiles {

  private TestFiles() {}

  /** Copies the directory {@code from}, with everything below it, to {@code to}. */
  public static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  /** A float32 .npy of the given shape with values drawn from a fixed seed. */
  public static byte[] randomNpy(int... shape) {
    float[] values = new float[java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
    Random random = new Random(7);
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return npy(values, shape);
  }

  /** A float32 .npy of these values in this shape. */
  public static byte[] npy(float[] values, int... shape) {
    ByteBuffer data = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      data.putFloat(v);
    }
    return npy("<f4", data.array(), shape);
  }

  /** An int64 .npy of these values in this shape. */
  public static byte[] npy(long[] values, int... shape) {
    ByteBuffer data = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      data.putLong(v);
    }
    return npy("<i8", data.array(), shape);
  }

  private static byte[] npy(String descr, byte[] data, int... shape) {
    String dims = shape.length == 0 ? "()"
        : "(" + String.join(", ", java.util.Arrays.stream(shape).mapToObj(String::valueOf).toList()) + ",)";
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + dims + ", }";
    StringBuilder header = new StringBuilder(dict);
    while ((10 + header.length() + 1) % 64 != 0) {
      header.append(' ');
    }
    header.append('\n');
    byte[] text = header.toString().getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer bytes = ByteBuffer.allocate(10 + text.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    bytes.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.ISO_8859_1)).put((byte) 1).put((byte) 0)
        .putShort((short) text.length).put(text).put(data);
    return bytes.array();
  }
}
