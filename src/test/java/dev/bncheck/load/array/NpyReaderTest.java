package dev.bncheck.load.array;

import static dev.bncheck.load.array.ArrayFixtures.bytes;
import static dev.bncheck.load.array.ArrayFixtures.fixture;
import static dev.bncheck.load.array.ArrayFixtures.littleEndianFloats;
import static dev.bncheck.load.array.ArrayFixtures.npy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class NpyReaderTest {

  @TempDir Path dir;

  private Path write(String name, byte[] content) throws IOException {
    return Files.write(dir.resolve(name), content);
  }

  private static float[] floats(Tensor tensor) {
    assertThat(tensor).isInstanceOf(Tensor.Float32.class);
    return ((Tensor.Float32) tensor).data();
  }

  private static double[] doubles(Tensor tensor) {
    assertThat(tensor).isInstanceOf(Tensor.Float64.class);
    return ((Tensor.Float64) tensor).data();
  }

  static Stream<Arguments> integerAndBoolArrays() {
    return Stream.of(
        Arguments.of("uint8.npy", new float[] {0f, 1f, 255f}),
        Arguments.of("int8.npy", new float[] {-128f, -1f, 0f, 127f}),
        Arguments.of("bool.npy", new float[] {1f, 0f, 1f}),
        Arguments.of("int16.npy", new float[] {-32768f, -1f, 0f, 32767f}),
        Arguments.of("uint16.npy", new float[] {0f, 1f, 65535f}));
  }

  /** Integers of 32 and 64 bits are read as float64: an id beyond 2^24 keeps its value. */
  // the extremes of 64 bits written as the doubles they round to
  @SuppressWarnings("FloatingPointLiteralPrecision")
  static Stream<Arguments> wideIntegerArrays() {
    return Stream.of(
        Arguments.of("int32.npy", new double[] {-2147483648.0, -1, 0, 2147483647.0}),
        Arguments.of("uint32.npy", new double[] {0, 1, 4294967295.0}),
        // 16777217 is not a float32, and is a float64
        Arguments.of("int64.npy", new double[] {-9223372036854775808.0, -1, 0, 16777217.0}),
        // 2^64 - 1 rounds to 2^64
        Arguments.of("uint64.npy", new double[] {0, 1, 18446744073709551616.0}));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("wideIntegerArrays")
  void wideIntegerArraysBecomeFloat64WithTheirValues(String file, double[] expected) {
    Tensor tensor = NpyReader.read(fixture(file));

    assertThat(tensor.shape()).containsExactly(expected.length);
    assertThat(doubles(tensor)).containsExactly(expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("integerAndBoolArrays")
  void narrowIntegerAndBoolArraysBecomeFloat32WithTheirValues(String file, float[] expected) {
    Tensor tensor = NpyReader.read(fixture(file));

    assertThat(tensor.shape()).containsExactly(expected.length);
    assertThat(floats(tensor)).containsExactly(expected);
  }

  @Test
  void float16BecomesFloat32ExactlyIncludingSubnormalsInfinitiesAndNaN() {
    float[] data = floats(NpyReader.read(fixture("float16.npy")));

    assertThat(Arrays.copyOf(data, 9))
        .containsExactly(0f, -0f, 1f, -2f, 0.5f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY);
    assertThat(Float.floatToRawIntBits(data[1])).isEqualTo(0x80000000);
    assertThat(data[9]).isNaN();
  }

  @Test
  void halfToFloatMatchesNumpyForEveryBitPatternClass() {
    assertThat(dev.bncheck.model.Float16.toFloat((short) 0x3c00)).isEqualTo(1f);
    assertThat(dev.bncheck.model.Float16.toFloat((short) 0x03ff)).isEqualTo(1023 * 0x1p-24f);
    assertThat(dev.bncheck.model.Float16.toFloat((short) 0x0400)).isEqualTo(0x1p-14f);
    assertThat(dev.bncheck.model.Float16.toFloat((short) 0xc000)).isEqualTo(-2f);
    assertThat(dev.bncheck.model.Float16.toFloat((short) 0x7bff)).isEqualTo(65504f);
    assertThat(dev.bncheck.model.Float16.toFloat((short) 0x7e00)).isNaN();
  }

  @Test
  void float32KeepsItsShapeAndValuesInBothByteOrders() {
    float[] expected = {1.5f, -2.25f, 3.0f, Float.MIN_VALUE, 3.4028235e38f, Float.NaN};
    for (String file : new String[] {"float32.npy", "float32_be.npy"}) {
      Tensor tensor = NpyReader.read(fixture(file));

      assertThat(tensor.shape()).as(file).containsExactly(2, 3);
      assertThat(floats(tensor)).as(file).containsExactly(expected);
    }
  }

  @Test
  void float64StaysFloat64InBothByteOrders() {
    double[] expected = {0.1, -1e300, Double.MIN_VALUE, Double.POSITIVE_INFINITY};
    for (String file : new String[] {"float64.npy", "float64_be.npy"}) {
      Tensor tensor = NpyReader.read(fixture(file));

      assertThat(tensor.dtype()).isEqualTo("float64");
      assertThat(tensor.shape()).as(file).containsExactly(4);
      assertThat(doubles(tensor)).as(file).containsExactly(expected);
    }
  }

  @Test
  void headersOfFormatVersions2And3AreRead() {
    for (String file : new String[] {"version2.npy", "version3.npy"}) {
      Tensor tensor = NpyReader.read(fixture(file));

      assertThat(tensor.shape()).as(file).containsExactly(2, 3);
      assertThat(floats(tensor)).as(file).containsExactly(0f, 0.25f, 0.5f, 0.75f, 1f, 1.25f);
    }
  }

  @Test
  void fortranOrderedArraysAreTransposedToRowMajor() {
    Tensor three = NpyReader.read(fixture("fortran_float32.npy"));
    float[] expected = new float[24];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = i;
    }
    assertThat(three.shape()).containsExactly(2, 3, 4);
    assertThat(floats(three)).containsExactly(expected);

    Tensor two = NpyReader.read(fixture("fortran_float64.npy"));
    assertThat(two.shape()).containsExactly(2, 3);
    assertThat(doubles(two)).containsExactly(0, 1, 2, 3, 4, 5);
  }

  @Test
  void fortranOrderWithOneLongDimensionNeedsNoTranspose() throws IOException {
    Path file = write("column.npy", npy(
        "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 1), }", littleEndianFloats(1, 2, 3)));

    assertThat(floats(NpyReader.read(file))).containsExactly(1f, 2f, 3f);
  }

  @Test
  void zeroDimensionalArrayBecomesATensorOfShapeEmptyHoldingOneValue() {
    Tensor scalar = NpyReader.read(fixture("scalar.npy"));

    assertThat(scalar.shape()).isEmpty();
    assertThat(floats(scalar)).containsExactly(3.5f);
  }

  @Test
  void emptyArrayKeepsItsShape() {
    Tensor empty = NpyReader.read(fixture("empty.npy"));

    assertThat(empty.shape()).containsExactly(0, 3);
    assertThat(floats(empty)).isEmpty();
  }

  @Test
  void handWrittenHeadersInAnyKeyOrderWithSpacesAndEitherQuoteAreRead() throws IOException {
    Path file = write("hand.npy", npy(
        "{ \"shape\" : ( 3 , ) ,'fortran_order':False,  'descr':\"<f4\" }", littleEndianFloats(1, 2, 3)));

    Tensor tensor = NpyReader.read(file);

    assertThat(tensor.shape()).containsExactly(3);
    assertThat(floats(tensor)).containsExactly(1f, 2f, 3f);
  }

  @Test
  void python2LongSuffixesAndASingleDimensionWithoutCommaAreRead() throws IOException {
    Path file = write("py2.npy", npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L), }", littleEndianFloats(1, 2)));
    Path bare = write("bare.npy", npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", littleEndianFloats(1, 2)));

    assertThat(NpyReader.read(file).shape()).containsExactly(1, 2);
    assertThat(NpyReader.read(bare).shape()).containsExactly(2);
  }

  @Test
  void complexArraysAreRefusedNamingTheDtype() {
    Path file = fixture("complex64.npy");

    assertThatThrownBy(() -> NpyReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": header: unsupported dtype '<c8' (complex numbers);"
            + " bncheck reads float, integer, bool and string (S, U) arrays");
  }

  @Test
  void objectArraysAreRefusedWithoutUnpickling() {
    Path file = fixture("object.npy");

    assertThatThrownBy(() -> NpyReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": header: unsupported dtype '|O' (Python objects, stored pickled; bncheck never"
            + " unpickles: save strings as np.array(values, dtype=bytes) or dtype=str); bncheck reads float, integer,"
            + " bool and string (S, U) arrays");
    assertThatThrownBy(() -> NpyReader.readInput(file)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("bncheck never unpickles");
  }

  @Test
  void structuredArraysAreRefused() {
    assertThatThrownBy(() -> NpyReader.read(fixture("structured.npy")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(fixture("structured.npy") + ": header: unsupported structured dtype"
            + " (records of named fields); save each field as its own array");
  }

  @Test
  void stringArraysAreRefusedWhereNumbersAreExpected() {
    assertThatThrownBy(() -> NpyReader.read(fixture("unicode.npy")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(fixture("unicode.npy") + ": header: holds strings, where numbers are expected");
  }

  private static List<String> strings(InputArray array) {
    assertThat(array).isInstanceOf(InputArray.Strings.class);
    return Arrays.stream(((InputArray.Strings) array).values()).map(b -> new String(b, StandardCharsets.UTF_8)).toList();
  }

  @Test
  void bytesArraysAreReadWithoutTheirPaddingButWithNulsInside() {
    InputArray array = NpyReader.readInput(fixture("bytes.npy"));

    assertThat(array.shape()).containsExactly(3);
    assertThat(array.dtype()).isEqualTo("string");
    assertThat(strings(array)).containsExactly("RIFF", "a\0b", "");
  }

  @Test
  void unicodeArraysBecomeUtf8InEitherByteOrder() {
    assertThat(strings(NpyReader.readInput(fixture("unicode.npy")))).containsExactly("ab", "c");

    InputArray bigEndian = NpyReader.readInput(fixture("unicode_be.npy"));
    assertThat(bigEndian.shape()).containsExactly(2, 2);
    assertThat(strings(bigEndian)).containsExactly("\u00e9t\u00e9", "\uD83D\uDE00", "", "x");
    assertThat(((InputArray.Strings) bigEndian).values()[1]).hasSize(4);
  }

  @Test
  void fortranOrderedStringsAreTransposedToRowMajor() {
    InputArray array = NpyReader.readInput(fixture("fortran_bytes.npy"));

    assertThat(array.shape()).containsExactly(2, 3);
    assertThat(strings(array)).containsExactly("a", "bb", "c", "d", "e", "ff");
  }

  @Test
  void numbersReadForAStringInputStayNumbers() {
    InputArray array = NpyReader.readInput(fixture("float32.npy"));

    assertThat(array).isInstanceOf(InputArray.Numbers.class);
    assertThat(array.shape()).containsExactly(2, 3);
  }

  static Stream<Arguments> malformedStringHeaders() {
    String support = "; bncheck reads float, integer, bool and string (S, U) arrays";
    return Stream.of(
        Arguments.of("|S", "unsupported dtype '|S' (a string type needs its length in characters, such as '|S5' or '<U5')"),
        Arguments.of("<Ux", "unsupported dtype '<Ux' (a string type needs its length in characters, such as '|S5' or '<U5')"),
        Arguments.of("|S-1", "unsupported dtype '|S-1' (a string type needs its length in characters, such as '|S5' or '<U5')"),
        Arguments.of("|S0", "unsupported dtype '|S0' (strings of length 0 hold nothing to feed)"),
        Arguments.of("|U2", "unsupported dtype '|U2' (no explicit byte order; expected '<' or '>')"),
        Arguments.of("=U2", "unsupported dtype '=U2' (no explicit byte order; expected '<' or '>')"),
        Arguments.of("<U1000000000", "unsupported dtype '<U1000000000' (elements of 4000000000 bytes, more than the"
            + " 2147483639 one string can hold)"),
        Arguments.of("<U99999999999", "unsupported dtype '<U99999999999' (a string type needs its length in"
            + " characters, such as '|S5' or '<U5')"),
        Arguments.of("|V4", "unsupported dtype '|V4' (raw bytes or records)" + support));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedStringHeaders")
  void malformedStringTypesAreRefusedWithTheHeaderNamed(String descr, String problem) throws IOException {
    Path file = write("x.npy", npy("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1,), }", new byte[4]));

    assertThatThrownBy(() -> NpyReader.readInput(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": header: " + problem);
  }

  @Test
  void stringDataShorterOrLongerThanItsItemSizeDeclaresIsRefused() throws IOException {
    String header = "{'descr': '<U2', 'fortran_order': False, 'shape': (2,), }";
    Path shortFile = write("short.npy", npy(header, Arrays.copyOf(utf32("ab", "c"), 12)));
    Path longFile = write("long.npy", npy(header, Arrays.copyOf(utf32("ab", "cd"), 20)));

    assertThatThrownBy(() -> NpyReader.readInput(shortFile))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(shortFile + ": truncated: expected 16 bytes of data, got 12");
    assertThatThrownBy(() -> NpyReader.readInput(longFile))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(longFile + ": 4 bytes after the 16 bytes of data the header declares;"
            + " bncheck reads one array per .npy file");
  }

  @Test
  void unicodeValuesThatAreNoCharactersAreRefusedNamingTheElement() throws IOException {
    ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    data.putInt('o').putInt('k').putInt('x').putInt(0xD800);
    Path surrogate = write("surrogate.npy", npy("{'descr': '<U2', 'fortran_order': False, 'shape': (2,), }",
        data.array()));
    ByteBuffer beyond = ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(0x110000);
    Path tooLarge = write("large.npy", npy("{'descr': '>U1', 'fortran_order': False, 'shape': (1,), }",
        beyond.array()));

    assertThatThrownBy(() -> NpyReader.readInput(surrogate))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(surrogate + ": element 1: character 1 is 0x0000D800, which is not a Unicode character"
            + " (a unicode array holds UTF-32)");
    assertThatThrownBy(() -> NpyReader.readInput(tooLarge))
        .hasMessage(tooLarge + ": element 0: character 0 is 0x00110000, which is not a Unicode character"
            + " (a unicode array holds UTF-32)");
  }

  @Test
  void aStringArrayLargerThanTheHeapIsRefusedBeforeAllocating() throws IOException {
    Path file = dir.resolve("huge.npy");
    byte[] header = npy("{'descr': '|S100000', 'fortran_order': False, 'shape': (200000,), }", new byte[0]);
    try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
      out.write(header);
      out.setLength(header.length + 200_000L * 100_000L);
    }

    assertThatThrownBy(() -> NpyReader.readInput(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(file + ": shape (200000,) ");
  }

  /** Little-endian UTF-32 of ASCII strings, each padded to the longest. */
  private static byte[] utf32(String... values) {
    int length = Arrays.stream(values).mapToInt(String::length).max().orElse(0);
    ByteBuffer out = ByteBuffer.allocate(4 * length * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (String v : values) {
      for (int i = 0; i < length; i++) {
        out.putInt(i < v.length() ? v.charAt(i) : 0);
      }
    }
    return out.array();
  }

  @Test
  void multiByteTypesWithoutAByteOrderAreRefused() throws IOException {
    Path file = write("native.npy", npy("{'descr': '=f4', 'fortran_order': False, 'shape': (1,), }", littleEndianFloats(1)));

    assertThatThrownBy(() -> NpyReader.read(file))
        .hasMessage(file + ": header: unsupported dtype '=f4' (no explicit byte order; expected '<' or '>')");
  }

  @Test
  void truncatedDataIsRefusedWithTheByteCounts() throws IOException {
    byte[] valid = bytes("float32.npy");
    Path file = write("x.npy", Arrays.copyOf(valid, valid.length - 5));

    assertThatThrownBy(() -> NpyReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": truncated: expected 24 bytes of data, got 19");
  }

  @Test
  void bytesAfterTheDataAreRefused() throws IOException {
    byte[] valid = bytes("uint8.npy");
    Path file = write("x.npy", Arrays.copyOf(valid, valid.length + 2));

    assertThatThrownBy(() -> NpyReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": 2 bytes after the 3 bytes of data the header declares;"
            + " bncheck reads one array per .npy file");
  }

  @Test
  void fileWithoutTheMagicIsNotANpyFile() throws IOException {
    Path file = write("x.npy", "{\"dtype\": \"float32\"}".getBytes(StandardCharsets.US_ASCII));

    assertThatThrownBy(() -> NpyReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": not a .npy file (it does not start with the \\x93NUMPY magic)");
  }

  @Test
  void truncatedHeaderIsRefused() throws IOException {
    byte[] valid = bytes("float32.npy");
    Path file = write("x.npy", Arrays.copyOf(valid, 40));

    assertThatThrownBy(() -> NpyReader.read(file))
        .hasMessage(file + ": truncated: the header declares 118 bytes, the file holds 30");
  }

  @Test
  void hugeDeclaredShapeIsRefusedBeforeAllocating() throws IOException {
    Path file = write("x.npy", npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100), }", new byte[16]));

    assertThatThrownBy(() -> NpyReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": shape (100000, 100000, 100) has more than 2147483639 values;"
            + " split the data into smaller batches");
  }

  @Test
  void shapeLargerThanTheFileIsRefusedBeforeAllocating() throws IOException {
    // 10^9 floats would need 4 GB; the 16 bytes of data give it away first.
    Path file = write("x.npy", npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000, 1000), }", new byte[16]));

    assertThatThrownBy(() -> NpyReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": truncated: expected 4000000000 bytes of data, got 16");
  }

  @Test
  void sparseFileDeclaringMoreThanTheHeapHoldsIsRefusedBeforeAllocating() throws IOException {
    // 2^31 - 9 float64 values, 16 GB, all present as far as the file's length goes: a sparse file.
    long count = Tensor.MAX_ELEMENTS;
    assumeTrue(count * 8 > Runtime.getRuntime().maxMemory(), "the test JVM's heap would hold the array");
    byte[] header = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (" + count + ",), }", new byte[0]);
    Path file = write("x.npy", header);
    try (RandomAccessFile sparse = new RandomAccessFile(file.toFile(), "rw")) {
      sparse.setLength(header.length + count * 8);
    }

    assertThatThrownBy(() -> NpyReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(file + ": shape (" + count + ",) needs 16.0 GB of memory, more than the ")
        .hasMessageContaining(" left of the Java heap (raise its limit with BNCHECK_JAVA_OPTS=-Xmx");
  }

  @Test
  void headerLongerThan64KiBIsRefused() throws IOException {
    ByteBuffer prelude = ByteBuffer.allocate(12 + 16).order(ByteOrder.LITTLE_ENDIAN);
    prelude.put(NpyHeader.MAGIC).put((byte) 2).put((byte) 0).putInt(100_000);
    Path file = write("x.npy", prelude.array());

    assertThatThrownBy(() -> NpyReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": header: declares 100000 bytes, more than the 65536 allowed");
  }

  @Test
  void unknownFormatVersionIsRefused() throws IOException {
    byte[] valid = bytes("uint8.npy");
    valid[6] = 4;
    Path file = write("x.npy", valid);

    assertThatThrownBy(() -> NpyReader.read(file))
        .hasMessage(file + ": header: unsupported .npy format version 4.0 (bncheck reads 1.0, 2.0 and 3.0)");
  }

  @Test
  void headerDictionaryProblemsNameTheHeader() throws IOException {
    byte[] data = littleEndianFloats(1);
    Path missing = write("a.npy", npy("{'descr': '<f4', 'shape': (1,), }", data));
    Path extra = write("b.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", data));
    Path malformed = write("c.npy", npy("{'descr': '<f4', 'fortran_order': False 'shape': (1,)}", data));
    Path negative = write("d.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", data));
    Path twice = write("e.npy", npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", data));
    Path code = write("f.npy", npy("{'descr': eval('1'), 'fortran_order': False, 'shape': (1,)}", data));

    assertThatThrownBy(() -> NpyReader.read(missing)).hasMessage(missing + ": header: no 'fortran_order' key");
    assertThatThrownBy(() -> NpyReader.read(extra))
        .hasMessage(extra + ": header: unexpected key 'x' (a .npy header has 'descr', 'fortran_order' and 'shape')");
    assertThatThrownBy(() -> NpyReader.read(malformed))
        .hasMessage(malformed + ": header: malformed dictionary at character 41: expected ',' or '}', got '''");
    assertThatThrownBy(() -> NpyReader.read(negative))
        .hasMessage(negative + ": header: 'shape' (-1,) is not a tuple of non-negative integers");
    assertThatThrownBy(() -> NpyReader.read(twice))
        .hasMessage(twice + ": header: malformed dictionary at character 18: key 'descr' given twice");
    assertThatThrownBy(() -> NpyReader.read(code))
        .hasMessage(code + ": header: malformed dictionary at character 11: unexpected name 'eval'");
  }

  @Test
  void missingFileIsNamed() {
    Path file = dir.resolve("nope.npy");

    assertThatThrownBy(() -> NpyReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": no such file or directory");
  }
}
