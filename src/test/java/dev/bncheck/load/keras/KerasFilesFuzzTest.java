package dev.bncheck.load.keras;

import dev.bncheck.load.FuzzedFiles;
import dev.bncheck.model.CalibrationSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Keras files with bytes replaced, or cut, load or fail with a one-line input error, never with
 * anything else: jhdf's own exceptions, an exhausted heap or stack must not reach the user.
 */
class KerasFilesFuzzTest {

  private static final List<String> FILES = List.of("healthy.keras", "healthy.h5", "frozen.keras", "frozen.h5");

  private static final Map<String, byte[]> BYTES = Map.of(
      "healthy.keras", read("healthy.keras"), "healthy.h5", read("healthy.h5"),
      "frozen.keras", read("frozen.keras"), "frozen.h5", read("frozen.h5"));

  private static byte[] read(String name) {
    try {
      return Files.readAllBytes(KerasFixtures.file(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Provide
  Arbitrary<String> files() {
    return Arbitraries.of(FILES);
  }

  private static void loadExpectingNothingButAnInputError(byte[] content, String name) throws IOException {
    FuzzedFiles.readExpectingNothingButAnInputError(content, name.substring(name.lastIndexOf('.')),
        file -> new BnModelFromKeras().load(file, CalibrationSink.NONE));
  }

  /**
   * Overwrites 1 to 8 bytes: half the time within the HDF5 structure Keras's files start with
   * (superblock, root group, the first object headers), else anywhere.
   */
  private static byte[] mutate(byte[] valid, long seed) {
    Random random = new Random(seed);
    byte[] mutated = valid.clone();
    int changes = 1 + random.nextInt(8);
    for (int i = 0; i < changes; i++) {
      int range = random.nextBoolean() ? Math.min(4096, mutated.length) : mutated.length;
      int at = random.nextInt(range);
      mutated[at] = random.nextInt(3) == 0 ? (byte) (random.nextBoolean() ? 0xff : 0) : (byte) random.nextInt(256);
    }
    return mutated;
  }

  @Property(tries = 600)
  void filesWithBytesReplaced(@ForAll("files") String name, @ForAll long seed) throws IOException {
    loadExpectingNothingButAnInputError(mutate(BYTES.get(name), seed), name);
  }

  @Property(tries = 200)
  void truncatedFiles(@ForAll("files") String name, @ForAll @IntRange(min = 0, max = 70_000) int cut)
      throws IOException {
    byte[] valid = BYTES.get(name);
    loadExpectingNothingButAnInputError(Arrays.copyOf(valid, Math.min(cut, valid.length)), name);
  }
}
