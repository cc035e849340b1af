package dev.bncheck.load.array;

import static dev.bncheck.load.array.ArrayFixtures.bytes;
import static dev.bncheck.load.array.ArrayFixtures.fixture;
import static dev.bncheck.load.array.ArrayFixtures.littleEndianFloats;
import static dev.bncheck.load.array.ArrayFixtures.npy;
import static dev.bncheck.load.array.ArrayFixtures.zip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzReaderTest {

  @TempDir Path dir;

  private Path write(String name, byte[] content) throws IOException {
    return Files.write(dir.resolve(name), content);
  }

  /** images[i] = 37·i mod 256, as make_arrays.py writes it. */
  private static float[] expectedImages() {
    float[] images = new float[96];
    for (int i = 0; i < images.length; i++) {
      images[i] = (37 * i) % 256;
    }
    return images;
  }

  private static void assertImagesAndLabels(Map<String, Tensor> arrays) {
    Tensor images = arrays.get("images");
    assertThat(images.shape()).containsExactly(2, 4, 4, 3);
    assertThat(((Tensor.Float32) images).data()).containsExactly(expectedImages());
    Tensor labels = arrays.get("labels");
    assertThat(labels.shape()).containsExactly(2);
    assertThat(((Tensor.Float64) labels).data()).containsExactly(0.25, -1.5);
  }

  @Test
  void stringMembersAreReadForInputsAndRefusedWhereNumbersAreExpected() {
    Path file = fixture("strings.npz");

    Map<String, InputArray> arrays = NpzReader.readInputs(file);

    assertThat(arrays).containsOnlyKeys("wav_data", "gain");
    assertThat(arrays.get("wav_data")).isInstanceOf(InputArray.Strings.class);
    assertThat(Arrays.stream(((InputArray.Strings) arrays.get("wav_data")).values())
        .map(b -> new String(b, StandardCharsets.US_ASCII))).containsExactly("abc", "de");
    assertThat(arrays.get("gain")).isInstanceOf(InputArray.Numbers.class);
    assertThatThrownBy(() -> NpzReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": wav_data.npy: header: holds strings, where numbers are expected");
  }

  @Test
  void storedArchiveGivesItsArraysByNameInArchiveOrder() {
    Map<String, Tensor> arrays = NpzReader.read(fixture("stored.npz"));

    assertThat(arrays).containsOnlyKeys("images", "labels");
    assertThat(arrays.keySet()).containsExactly("images", "labels");
    assertImagesAndLabels(arrays);
  }

  @Test
  void compressedArchiveIsReadLikeAStoredOne() {
    Map<String, Tensor> arrays = NpzReader.read(fixture("compressed.npz"));

    assertThat(arrays.keySet()).containsExactly("images", "labels", "zeros");
    assertImagesAndLabels(arrays);
    Tensor zeros = arrays.get("zeros");
    assertThat(zeros.shape()).containsExactly(64, 64);
    assertThat(((Tensor.Float32) zeros).data()).hasSize(4096).containsOnly(0f);
  }

  @Test
  void arrayNamesComeFromTheDirectoryInArchiveOrder() {
    assertThat(NpzReader.arrayNames(fixture("compressed.npz"))).containsExactly("images", "labels", "zeros");
    assertThat(NpzReader.arrayNames(fixture("single.npz"))).containsExactly("x");
  }

  @Test
  void errorsInAMemberNameTheArchiveAndTheMember() throws IOException {
    Path file = write("data.npz", zip(false, "ok.npy", bytes("uint8.npy"), "images.npy", bytes("complex64.npy")));

    assertThatThrownBy(() -> NpzReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": images.npy: header: unsupported dtype '<c8' (complex numbers);"
            + " bncheck reads float, integer, bool and string (S, U) arrays");
  }

  @Test
  void memberShorterThanItsShapeIsRefusedBeforeAllocating() throws IOException {
    byte[] forged = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000, 1000), }", new byte[16]);
    Path file = write("data.npz", zip(true, "x.npy", forged));

    assertThatThrownBy(() -> NpzReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": x.npy: truncated: expected 4000000000 bytes of data, got 16");
  }

  /** A member name holding a newline stays on the message's one line (a fuzz find). */
  @Test
  void aMemberNameIsEscapedInMessages() throws IOException {
    byte[] forged = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000, 1000), }", new byte[16]);
    Path file = write("data.npz", zip(true, "x\ny.npy", forged));

    assertThatThrownBy(() -> NpzReader.readInputs(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": x\\u000ay.npy: truncated: expected 4000000000 bytes of data, got 16");
  }

  @Test
  void memberClaimingMoreThanDeflateCanProduceIsRefused() throws IOException {
    byte[] archive = zip(true, "x.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
        littleEndianFloats(1, 2)));
    // Forge the uncompressed size in the central directory: 2 GB from a few dozen bytes.
    int central = indexOf(archive, new byte[] {'P', 'K', 1, 2});
    ByteBuffer.wrap(archive).order(ByteOrder.LITTLE_ENDIAN).putInt(central + 24, 2_000_000_000);
    Path file = write("data.npz", archive);

    assertThatThrownBy(() -> NpzReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(file + ": x.npy: corrupt ZIP archive: claims 2000000000 bytes uncompressed from ")
        .hasMessageEndingWith(", more than deflate can produce");
  }

  @Test
  void storedMemberClaimingMoreBytesThanTheArchiveHoldsIsRefusedBeforeAllocating() throws IOException {
    // Two billion uint8 values would become 8 GB of floats; the archive holds a few hundred bytes.
    byte[] header = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2000000000,), }", new byte[0]);
    byte[] archive = zip(false, "x.npy", header);
    int central = indexOf(archive, new byte[] {'P', 'K', 1, 2});
    ByteBuffer.wrap(archive).order(ByteOrder.LITTLE_ENDIAN)
        .putInt(central + 20, header.length + 2_000_000_000).putInt(central + 24, header.length + 2_000_000_000);
    Path file = write("data.npz", archive);

    assertThatThrownBy(() -> NpzReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": x.npy: corrupt ZIP archive: claims " + (header.length + 2_000_000_000L)
            + " compressed bytes, more than the archive's " + archive.length);
  }

  @Test
  void corruptDeflatedDataIsRefusedNamingTheMember() throws IOException {
    byte[] archive = bytes("compressed.npz");
    int images = indexOf(archive, "images.npy".getBytes(StandardCharsets.US_ASCII));
    for (int i = images + 40; i < images + 200; i++) {
      archive[i] = (byte) 0xff;
    }
    Path file = write("data.npz", archive);

    assertThatThrownBy(() -> NpzReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(file + ": images.npy: ")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void fileThatIsNotAZipIsRefused() throws IOException {
    Path file = write("data.npz", bytes("uint8.npy"));

    assertThatThrownBy(() -> NpzReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(file + ": not a valid .npz file (ZIP archive): ");
  }

  @Test
  void truncatedArchiveIsRefused() throws IOException {
    byte[] valid = bytes("stored.npz");
    Path file = write("data.npz", Arrays.copyOf(valid, valid.length / 2));

    assertThatThrownBy(() -> NpzReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(file + ": not a valid .npz file (ZIP archive): ");
  }

  @Test
  void membersThatAreNotNpyArraysAreRefused() throws IOException {
    Path file = write("data.npz", zip(true, "notes.txt", "hello".getBytes(StandardCharsets.US_ASCII)));

    assertThatThrownBy(() -> NpzReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": notes.txt: not a .npy array; an .npz file holds only NAME.npy members");
  }

  @Test
  void twoMembersOfTheSameNameAreRefused() throws IOException {
    byte[] archive = zip(false, "a.npy", bytes("uint8.npy"), "b.npy", bytes("int8.npy"));
    // ZipOutputStream refuses duplicate names: rename b.npy to a.npy in its local and central headers.
    byte[] b = "b.npy".getBytes(StandardCharsets.US_ASCII);
    for (int at = indexOf(archive, b); at >= 0; at = indexOf(archive, b)) {
      archive[at] = 'a';
    }
    Path file = write("data.npz", archive);

    assertThatThrownBy(() -> NpzReader.read(file))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": a.npy: appears twice in the archive");
  }

  @Test
  void missingFileIsNamed() {
    Path file = dir.resolve("nope.npz");

    assertThatThrownBy(() -> NpzReader.read(file)).hasMessage(file + ": no such file or directory");
  }

  static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
