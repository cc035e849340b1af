package dev.bncheck.load.array;

import static dev.bncheck.load.array.ArrayFixtures.npy;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * String arrays written as NumPy writes them (every element padded with NULs to the longest) read
 * back as the values written: unicode as UTF-8 in either byte order, bytes with their trailing
 * NULs dropped, as NumPy drops them.
 */
class StringArraysPropertyTest {

  @Provide
  Arbitrary<List<String>> texts() {
    Arbitrary<Integer> codePoint = Arbitraries.integers().between(1, Character.MAX_CODE_POINT)
        .filter(c -> c < Character.MIN_SURROGATE || c > Character.MAX_SURROGATE);
    Arbitrary<String> text = codePoint.list().ofMaxSize(12)
        .map(points -> new String(points.stream().mapToInt(Integer::intValue).toArray(), 0, points.size()));
    return text.list().ofMinSize(1).ofMaxSize(8);
  }

  @Provide
  Arbitrary<List<byte[]>> blobs() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(20).list().ofMinSize(1).ofMaxSize(8);
  }

  @Property(tries = 200)
  void unicodeArraysReadBackAsUtf8(@ForAll("texts") List<String> values, @ForAll boolean bigEndian) throws IOException {
    int length = Math.max(1, values.stream().mapToInt(v -> v.codePointCount(0, v.length())).max().orElse(0));
    ByteBuffer data = ByteBuffer.allocate(4 * length * values.size())
        .order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    for (String v : values) {
      int[] points = v.codePoints().toArray();
      for (int i = 0; i < length; i++) {
        data.putInt(i < points.length ? points[i] : 0);
      }
    }
    String descr = (bigEndian ? ">U" : "<U") + length;

    InputArray array = read(descr, values.size(), data.array());

    assertThat(Arrays.stream(((InputArray.Strings) array).values()).map(b -> new String(b, StandardCharsets.UTF_8)))
        .containsExactlyElementsOf(values);
  }

  @Property(tries = 200)
  void bytesArraysReadBackWithoutTrailingNuls(@ForAll("blobs") List<byte[]> values) throws IOException {
    int length = Math.max(1, values.stream().mapToInt(v -> v.length).max().orElse(0));
    ByteBuffer data = ByteBuffer.allocate(length * values.size());
    for (byte[] v : values) {
      data.put(v).position(data.position() + length - v.length);
    }

    InputArray array = read("|S" + length, values.size(), data.array());

    byte[][] read = ((InputArray.Strings) array).values();
    for (int i = 0; i < values.size(); i++) {
      byte[] v = values.get(i);
      int end = v.length;
      while (end > 0 && v[end - 1] == 0) {
        end--;
      }
      assertThat(read[i]).isEqualTo(Arrays.copyOf(v, end));
    }
  }

  private static InputArray read(String descr, int count, byte[] data) throws IOException {
    Path file = Files.createTempFile("strings", ".npy");
    try {
      Files.write(file, npy("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + count + ",), }", data));
      InputArray array = NpyReader.readInput(file);
      assertThat(array.shape()).containsExactly(count);
      return array;
    } finally {
      Files.delete(file);
    }
  }
}
