package dev.bncheck.load.array;

import static dev.bncheck.load.array.ArrayFixtures.bytes;
import static org.assertj.core.api.Assertions.assertThat;


import dev.bncheck.load.FuzzedFiles;
import dev.bncheck.load.InvalidInputException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** Mutated and truncated .npy and .npz files load or fail with a clean input error, never anything else. */
class ArrayReadersFuzzTest {

  private static final List<String> NPY = List.of(
      "float32.npy", "float64_be.npy", "float16.npy", "uint64.npy", "bool.npy", "version2.npy",
      "version3.npy", "fortran_float32.npy", "scalar.npy", "empty.npy", "object.npy", "unicode_be.npy", "bytes.npy",
      "fortran_bytes.npy");

  private static final List<String> NPZ = List.of("stored.npz", "compressed.npz", "single.npz", "strings.npz");

  @Provide
  Arbitrary<String> npyFiles() {
    return Arbitraries.of(NPY);
  }

  @Provide
  Arbitrary<String> npzFiles() {
    return Arbitraries.of(NPZ);
  }

  /**
   * A .npy is read from memory through the channel its reader takes; a .npz goes through a file,
   * since its ZIP directory is read by random access.
   */
  private static void readExpectingNothingButAnInputError(byte[] content, String suffix) throws IOException {
    if (suffix.equals(".npz")) {
      FuzzedFiles.readExpectingNothingButAnInputError(content, suffix, NpzReader::readInputs);
      return;
    }
    try {
      NpyReader.read(Channels.newChannel(new ByteArrayInputStream(content)), content.length,
          ArraySource.of("fuzz.npy"), true);
    } catch (InvalidInputException expected) {
      assertThat(expected.getMessage()).doesNotContain("\n");
    }
  }

  /** Overwrites 1 to 4 bytes, half the time inside the first 128 (the .npy header, or the first ZIP header). */
  private static byte[] mutate(byte[] valid, long seed) {
    Random random = new Random(seed);
    byte[] mutated = valid.clone();
    int changes = 1 + random.nextInt(4);
    for (int i = 0; i < changes; i++) {
      int range = random.nextBoolean() ? Math.min(128, mutated.length) : mutated.length;
      int at = random.nextInt(range);
      mutated[at] = random.nextInt(4) == 0 ? (byte) "0123456789(),'{}: ".charAt(random.nextInt(18)) : (byte) random.nextInt(256);
    }
    return mutated;
  }

  @Property(tries = 300)
  void truncatedNpyFiles(@ForAll("npyFiles") String fixture, @ForAll @IntRange(min = 0, max = 400) int cut) throws IOException {
    byte[] valid = bytes(fixture);
    readExpectingNothingButAnInputError(Arrays.copyOf(valid, Math.min(cut, valid.length)), ".npy");
  }

  @Property(tries = 1000)
  void npyFilesWithBytesReplaced(@ForAll("npyFiles") String fixture, @ForAll long seed) throws IOException {
    readExpectingNothingButAnInputError(mutate(bytes(fixture), seed), ".npy");
  }

  @Property(tries = 300)
  void truncatedNpzFiles(@ForAll("npzFiles") String fixture, @ForAll @IntRange(min = 0, max = 1000) int cut) throws IOException {
    byte[] valid = bytes(fixture);
    readExpectingNothingButAnInputError(Arrays.copyOf(valid, Math.min(cut, valid.length)), ".npz");
  }

  @Property(tries = 1000)
  void npzFilesWithBytesReplaced(@ForAll("npzFiles") String fixture, @ForAll long seed) throws IOException {
    readExpectingNothingButAnInputError(mutate(bytes(fixture), seed), ".npz");
  }
}
