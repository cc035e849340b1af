package dev.bncheck.load.pytorch;

import dev.bncheck.load.FuzzedFiles;
import dev.bncheck.model.CalibrationSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * Mutated and truncated checkpoints, made from the ones real PyTorch wrote, load or fail with a
 * clean one-line input error: never another exception, a stack overflow or an allocation the
 * file did not earn.
 */
class TorchCheckpointsFuzzTest {

  private static final Path DIR = TorchCheckpointValuesTest.DIR;

  /** A state_dict, a training checkpoint (optimizer state, plain values) and a whole module (instances, sets, hooks). */
  private static final List<String> PICKLED = List.of("trained-state_dict.pt", "trained-checkpoint.pt",
      "trained-module.pt");

  /** Opcodes that build, call, reference and nest, inserted where they do not belong. */
  private static final List<byte[]> OPCODES = List.of(new byte[] {'('}, new byte[] {'t'}, new byte[] {'R'},
      new byte[] {'b'}, new byte[] {(byte) 0x81}, new byte[] {'Q'}, new byte[] {'s'}, new byte[] {'u'},
      new byte[] {'a'}, new byte[] {'e'}, new byte[] {'0'}, new byte[] {'2'}, new byte[] {'h', 0},
      new byte[] {'h', (byte) 0xff}, new byte[] {(byte) 0x85}, new byte[] {'N'}, new byte[] {']'}, new byte[] {'}'},
      new byte[] {(byte) 0x93}, new byte[] {'K', 5}, "cposix\nsystem\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));

  @Provide
  Arbitrary<String> pickled() {
    return Arbitraries.of(PICKLED);
  }

  @Provide
  Arbitrary<String> safetensors() {
    return Arbitraries.of("trained.safetensors", "trained-bfloat16.safetensors");
  }

  private static void loadExpectingNothingButAnInputError(byte[] content, String suffix) throws IOException {
    FuzzedFiles.readExpectingNothingButAnInputError(content, suffix, file -> {
      if (suffix.equals(".pt")) {
        new BnModelFromTorchSave().load(file, CalibrationSink.NONE);
      } else {
        new BnModelFromSafetensors().load(file, CalibrationSink.NONE);
      }
    });
  }

  /** The checkpoint with its pickle replaced, the storages kept. */
  private static byte[] withPickle(String fixture, java.util.function.UnaryOperator<byte[]> change) {
    Map<String, byte[]> entries = TorchZips.entries(DIR.resolve(fixture));
    String pickle = entries.keySet().stream().filter(n -> n.endsWith("/data.pkl")).findFirst().orElseThrow();
    entries.put(pickle, change.apply(entries.get(pickle)));
    return TorchZips.stored(entries);
  }

  private static byte[] mutate(byte[] valid, long seed) {
    Random random = new Random(seed);
    byte[] mutated = valid.clone();
    for (int i = 0, changes = 1 + random.nextInt(4); i < changes; i++) {
      mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
    }
    return mutated;
  }

  @Property(tries = 400)
  void picklesWithBytesReplaced(@ForAll("pickled") String fixture, @ForAll long seed) throws IOException {
    loadExpectingNothingButAnInputError(withPickle(fixture, p -> mutate(p, seed)), ".pt");
  }

  @Property(tries = 400)
  void picklesWithAnOpcodeInserted(@ForAll("pickled") String fixture, @ForAll long seed) throws IOException {
    Random random = new Random(seed);
    byte[] opcode = OPCODES.get(random.nextInt(OPCODES.size()));
    loadExpectingNothingButAnInputError(withPickle(fixture, p -> {
      int at = 2 + random.nextInt(p.length - 2);
      byte[] out = Arrays.copyOf(p, p.length + opcode.length);
      System.arraycopy(opcode, 0, out, at, opcode.length);
      System.arraycopy(p, at, out, at + opcode.length, p.length - at);
      return out;
    }), ".pt");
  }

  @Property(tries = 200)
  void truncatedPickles(@ForAll("pickled") String fixture, @ForAll @IntRange(min = 0, max = 3000) int cut)
      throws IOException {
    loadExpectingNothingButAnInputError(withPickle(fixture, p -> Arrays.copyOf(p, Math.min(cut, p.length - 1))), ".pt");
  }

  /**
   * A find of the property below: an entry name that ZipFile's check of the directory lets
   * through and its listing cannot decode, which it reports as an IllegalArgumentException.
   */
  @org.junit.jupiter.api.Test
  void anArchiveWhoseEntryNameCannotBeDecodedIsAnInputError() throws IOException {
    loadExpectingNothingButAnInputError(mutate(Files.readAllBytes(DIR.resolve("trained-checkpoint.pt")),
        19772301230855L), ".pt");
  }

  @Property(tries = 300)
  void archivesWithBytesReplaced(@ForAll("pickled") String fixture, @ForAll long seed) throws IOException {
    loadExpectingNothingButAnInputError(mutate(Files.readAllBytes(DIR.resolve(fixture)), seed), ".pt");
  }

  @Property(tries = 300)
  void safetensorsWithBytesReplaced(@ForAll("safetensors") String fixture, @ForAll long seed) throws IOException {
    byte[] valid = Files.readAllBytes(DIR.resolve(fixture));
    Random random = new Random(seed);
    byte[] mutated = valid.clone();
    // mostly in the length and the JSON header, where the file's claims are
    for (int i = 0, changes = 1 + random.nextInt(3); i < changes; i++) {
      int at = random.nextInt(random.nextBoolean() ? Math.min(600, valid.length) : valid.length);
      mutated[at] = random.nextInt(3) == 0 ? (byte) "0123456789[]{},:\"".charAt(random.nextInt(17))
          : (byte) random.nextInt(256);
    }
    loadExpectingNothingButAnInputError(mutated, ".safetensors");
  }

  @Property(tries = 100)
  void truncatedSafetensors(@ForAll("safetensors") String fixture, @ForAll @IntRange(min = 0, max = 8000) int cut)
      throws IOException {
    byte[] valid = Files.readAllBytes(DIR.resolve(fixture));
    loadExpectingNothingButAnInputError(Arrays.copyOf(valid, Math.min(cut, valid.length - 1)), ".safetensors");
  }
}
