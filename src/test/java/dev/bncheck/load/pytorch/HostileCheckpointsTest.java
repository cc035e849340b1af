package dev.bncheck.load.pytorch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bncheck.cli.CliRun;
import dev.bncheck.cli.ExitCodes;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files crafted against a checkpoint reader: each is refused with one line naming the file and the
 * entry, field or global, before anything large is read or allocated.
 */
class HostileCheckpointsTest {

  private static final Path TRAINED = TorchCheckpointValuesTest.DIR.resolve("trained-state_dict.pt");

  @TempDir
  Path temp;

  private BnModel loadPt(byte[] bytes) {
    Path file = TorchZips.write(temp.resolve("model.pt"), bytes);
    return new BnModelFromTorchSave().load(file, LoadOptions.DEFAULTS, CalibrationSink.NONE);
  }

  private void refusedPt(byte[] bytes, String message) {
    Path file = temp.resolve("model.pt");
    assertThatThrownBy(() -> loadPt(bytes)).isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": " + message);
  }

  private void refusedPickle(byte[] pickle, String message) {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("m/data.pkl", pickle);
    refusedPt(TorchZips.stored(entries), "m/data.pkl at " + message);
  }

  @Test
  void theHandWrittenArchiveOfTheseTestsIsReadWhenNothingIsWrong() {
    BnModel model = loadPt(TorchZips.stored(TorchZips.oneLayer(6, 1, new long[] {2}, new long[] {3},
        9, 0.5f, 9, 9, -2.5f, 9)));
    assertThat(model.layers().get(0).movingMean()).containsExactly(0.5, -2.5);
    assertThat(model.layers().get(0).movingVariance()).containsExactly(1, 1);
  }

  @Test
  void entryNamesThatLeaveTheArchiveAreRefused() {
    for (String name : new String[] {"../evil", "m/../../evil", "/etc/cron.d/x", "C:/x", "m\\..\\x"}) {
      Map<String, byte[]> entries = TorchZips.entries(TRAINED);
      entries.put(name, new byte[] {1});
      refusedPt(TorchZips.stored(entries), "entry " + name + ": an absolute path or one that leaves the archive (..,"
          + " a drive letter or a backslash); a torch.save archive has none");
    }
  }

  @Test
  void aPickleThatInflatesBeyondTheLimitIsRefusedBeforeReading() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("m/data.pkl"));
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 100; i++) {
        zip.write(zeros);
      }
      zip.closeEntry();
    }
    assertThat(bytes.size()).as("100 MB of zeros deflate to little").isLessThan(200_000);
    refusedPt(bytes.toByteArray(), "m/data.pkl: declares 104857600 bytes, more than the 67108864 bncheck reads;"
        + " refused before reading");
    // the same entry declaring 1000 bytes: reading stops at the declared size
    refusedPt(TorchZips.declareSize(bytes.toByteArray(), "m/data.pkl", 1000, false),
        "m/data.pkl: inflates to more than its declared 1000 bytes; refused");
  }

  @Test
  void anEntryDeclaringMoreThanTheFileHoldsIsRefusedBeforeReading() {
    byte[] zip = TorchZips.stored(TorchZips.entries(TRAINED));
    byte[] forged = TorchZips.declareSize(zip, "trained-state_dict/data/4", 0xfffffff0L, true);
    refusedPt(forged, "entry trained-state_dict/data/4: declares 4294967280 bytes stored in a file of " + zip.length
        + "; refused before reading");
  }

  @Test
  void anEntryNameThatIsNotUtf8IsRefused() {
    Map<String, byte[]> entries = TorchZips.entries(TRAINED);
    entries.put("trained-state_dict/extra~", new byte[1]);
    byte[] zip = TorchZips.stored(entries);
    byte[] broken = new String(zip, StandardCharsets.ISO_8859_1).replace("extra~", "extra\u00ff")
        .getBytes(StandardCharsets.ISO_8859_1);
    refusedPt(broken, "not a readable zip archive (invalid CEN header (bad entry name)); a torch.save file from"
        + " PyTorch 1.6 or later is one, so this one is truncated or damaged");
  }

  @Test
  void duplicateEntriesAreRefused() {
    Map<String, byte[]> entries = TorchZips.entries(TRAINED);
    entries.put("trained-state_dict/data/X", new byte[4]);
    byte[] zip = TorchZips.stored(entries);
    // rename the extra entry to an existing name in both its headers
    byte[] duplicated = new String(zip, StandardCharsets.ISO_8859_1).replace("trained-state_dict/data/X",
        "trained-state_dict/data/4").getBytes(StandardCharsets.ISO_8859_1);
    refusedPt(duplicated, "entry trained-state_dict/data/4: appears twice; readers would disagree on which one counts");
  }

  @Test
  void truncatedArchivesAreRefused() throws IOException {
    byte[] whole = Files.readAllBytes(TRAINED);
    for (int cut : new int[] {0, 10, whole.length / 2, whole.length - 1}) {
      Path file = TorchZips.write(temp.resolve("cut.pt"), Arrays.copyOf(whole, cut));
      assertThatThrownBy(() -> new BnModelFromTorchSave().load(file, CalibrationSink.NONE))
          .isInstanceOf(InvalidInputException.class).hasMessageStartingWith(file + ": ")
          .hasMessageContaining(cut < 4 ? "not a zip archive" : "truncated or damaged");
    }
  }

  @Test
  void aStorageWhoseBytesChangedIsDamaged() throws IOException {
    byte[] zip = Files.readAllBytes(TRAINED);
    Map<String, byte[]> entries = TorchZips.entries(TRAINED);
    byte[] mean = entries.get("trained-state_dict/data/4");
    int at = indexOf(zip, mean);
    zip[at + 5] ^= 0x40;
    assertThatThrownBy(() -> loadPt(zip)).isInstanceOf(InvalidInputException.class)
        .hasMessageMatching(".*model.pt: trained-state_dict/data/4: damaged: its CRC-32 is [0-9a-f]{8}, the archive"
            + " records [0-9a-f]{8}");
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (Arrays.equals(Arrays.copyOfRange(haystack, i, i + needle.length), needle)) {
        return i;
      }
    }
    throw new AssertionError("not found");
  }

  @Test
  void aZipWithoutAPickleIsNoCheckpoint() {
    refusedPt(TorchZips.stored(Map.of("keras_model/config.json", new byte[] {'{', '}'})),
        "a zip archive without NAME/data.pkl, so not a torch.save checkpoint");
  }

  @Test
  void aStorageOfAnotherLengthThanItsReferenceDeclaresIsRefused() {
    Map<String, byte[]> entries = TorchZips.entries(TRAINED);
    entries.put("trained-state_dict/data/4", new byte[2]);
    refusedPt(TorchZips.stored(entries), "trained-state_dict/data/4: holds 2 bytes, but the pickle declares 8 float32"
        + " elements of 4 bytes for it");
    entries.put("trained-state_dict/data/4", new byte[36]);
    refusedPt(TorchZips.stored(entries), "trained-state_dict/data/4: holds 36 bytes, but the pickle declares 8 float32"
        + " elements of 4 bytes for it");
    entries.remove("trained-state_dict/data/4");
    refusedPt(TorchZips.stored(entries), "trained-state_dict/data/4: missing: the pickle refers to storage 4, which"
        + " the archive does not hold");
  }

  @Test
  void aViewReachingPastItsStorageOrDeclaringAHugeShapeIsRefused() {
    refusedPt(TorchZips.stored(TorchZips.oneLayer(4, 2, new long[] {2}, new long[] {2}, 1, 2, 3, 4)),
        "bn.running_mean: reaches element 4 of m/data/0, which holds 4 (size [2], stride [2], offset 2)");
    refusedPt(TorchZips.stored(TorchZips.oneLayer(4, 0, new long[] {1 << 30}, new long[] {1}, 1, 2, 3, 4)),
        "bn.running_mean: shape [1073741824] holds more values than bncheck reads for one BN parameter (4194304)");
    Map<String, byte[]> huge = TorchZips.oneLayer(1 << 30, 0, new long[] {4}, new long[] {1 << 27}, 1, 2, 3, 4);
    refusedPt(TorchZips.stored(huge), "m/data/0: holds 16 bytes, but the pickle declares 1073741824 float32 elements"
        + " of 4 bytes for it");
    // a deflated storage may declare gigabytes in a small file: the view's span is bounded before reading
    Map<String, byte[]> spread = TorchZips.oneLayer(0x7ffffff0 / 4, 0, new long[] {4}, new long[] {1 << 25}, 1, 2, 3, 4);
    refusedPt(TorchZips.declareSize(TorchZips.deflated(spread), "m/data/0", 0x7ffffff0, false),
        "bn.running_mean: spans 402653188 bytes of its storage (stride [33554432]), more than bncheck reads for"
            + " one BN parameter (268435456)");
  }

  @Test
  void unknownOpcodesAndMalformedPicklesAreRefused() {
    refusedPickle(new TorchZips.Pickle().op(0xff).stop(), "byte 2: unknown or unsupported pickle opcode 0xff");
    refusedPickle(new TorchZips.Pickle().op('h').op(7).stop(), "byte 2: memo entry 7 read before it was written");
    refusedPickle(new TorchZips.Pickle().op('X').int32(1 << 30).stop(),
        "byte 2: a value of 1073741824 bytes, past the end of the pickle (1 left)");
    refusedPickle(new TorchZips.Pickle().op('}').bytes(), "byte 3: the pickle ends early (truncated)");
    refusedPickle(new TorchZips.Pickle().op('t').stop(), "byte 2: no MARK to pop to");
    refusedPickle(new TorchZips.Pickle().op(0x82).op(1).stop(), "byte 2: extension code (EXT1): the pickle names a"
        + " global through Python's copyreg registry, which bncheck does not resolve");
    // torch.save(..., pickle_protocol=0): no PROTO header, and PUT (p) is protocol 0's memo opcode
    refusedPickle(new byte[] {'(', 'd', 'p', '0', '\n', '.'}, "byte 0: not a pickle of protocol 2 to 5 (no protocol"
        + " header), as torch.save writes: protocols 0 and 1 write none; save it again with torch.save's default"
        + " protocol");
    // text where the pickle belongs: its first letter read as an opcode (BINGET) named a memo entry
    refusedPickle("hello world".getBytes(java.nio.charset.StandardCharsets.US_ASCII), "byte 0: not a pickle of"
        + " protocol 2 to 5 (no protocol header), as torch.save writes: the entry holds something else");
  }

  @Test
  void callsOutsideTheAllowlistAreRefusedNamingTheGlobal() {
    for (String[] global : new String[][] {{"os", "system"}, {"builtins", "exec"}, {"__builtin__", "getattr"},
        {"torch", "load"}, {"numpy", "load"}}) {
      String name = (global[0].equals("__builtin__") ? "builtins" : global[0]) + "." + global[1];
      refusedPickle(new TorchZips.Pickle().global(global[0], global[1]).op('(').text("x").op('t').op('R').stop(),
          "byte " + (13 + global[0].length() + global[1].length()) + ": calls " + name + ", which is not among"
              + " the functions a tensor checkpoint needs; bncheck never runs code from a checkpoint (save the weights"
              + " alone: torch.save(model.state_dict(), path), or as .safetensors)");
    }
    refusedPickle(new TorchZips.Pickle().op('(').op('i').raw("os\nsystem\n").stop(),
        "byte 3: creates an instance by calling its class os.system, which is not among the functions a tensor checkpoint"
            + " needs; bncheck never runs code from a checkpoint (save the weights alone:"
            + " torch.save(model.state_dict(), path), or as .safetensors)");
  }

  @Test
  void nestingBeyondTheLimitIsRefusedWhileReading() {
    TorchZips.Pickle lists = new TorchZips.Pickle();
    for (int i = 0; i < 1000; i++) {
      lists.op(']');
    }
    for (int i = 0; i < 999; i++) {
      lists.op('a');
    }
    refusedPickle(lists.stop(), "byte 1201: containers nested more than 200 deep");
    TorchZips.Pickle tuples = new TorchZips.Pickle().op('N');
    for (int i = 0; i < 100_000; i++) {
      tuples.op(0x85);
    }
    refusedPickle(tuples.stop(), "byte 203: containers nested more than 200 deep");
  }

  @Test
  void aDictKeyHoldingAContainerIsRefused() {
    // d[(l,)] = l: a key holding a list, which Java would hash forever once the list held the key
    refusedPickle(new TorchZips.Pickle().op('}').op(']').op('q').op(0).op(0x85).op('h').op(0).op('s').stop(),
        "byte 9: a dict key that is a tuple; bncheck reads dicts keyed by names, numbers and flat tuples of them");
  }

  @Test
  void aModuleSharedAtEveryLevelIsNotWalkedExponentiallyOften() {
    // 40 levels, each module holding the one below twice: 2^40 paths, as state_dict() would walk them
    TorchZips.Pickle p = new TorchZips.Pickle();
    for (int level = 0; level < 40; level++) {
      p.global("mylib", "Block").op(')').op(0x81).op('}').op('(').text("_parameters").op('}').text("_buffers").op('}')
          .text("_modules").op('}');
      if (level > 0) {
        p.op('(').text("a").op('h').op(level - 1).text("b").op('h').op(level - 1).op('u');
      }
      p.op('u').op('b').op('q').op(level);
      if (level < 39) {
        p.op('0');
      }
    }
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("m/data.pkl", p.stop());
    refusedPt(TorchZips.stored(entries), "a module tree of more than 1000000 submodules and tensors, counting each"
        + " shared one every time it appears");
  }

  @Test
  void callsThatWouldCopyTheirArgumentsAreRefused() {
    // OrderedDict(items) copies; a pickle could call it on one long list again and again
    refusedPickle(new TorchZips.Pickle().global("collections", "OrderedDict").op(']').op(0x85).op('R').stop(),
        "byte 29: collections.OrderedDict called with (list); a pickle creates it empty");
  }

  @Test
  void aPickledObjectThatIsNoModuleIsRefusedNamingItsClass() {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("m/data.pkl", new TorchZips.Pickle().global("mylib", "Trainer").op(')').op(0x81).op('}').op('b').stop());
    refusedPt(TorchZips.stored(entries), "holds a pickled mylib.Trainer instance, not a state_dict or a"
        + " torch.nn.Module; save model.state_dict() with torch.save");
  }

  private BnModel loadSafetensors(byte[] bytes) {
    Path file = TorchZips.write(temp.resolve("model.safetensors"), bytes);
    return new BnModelFromSafetensors().load(file, CalibrationSink.NONE);
  }

  private void refusedSafetensors(byte[] bytes, String message) {
    Path file = temp.resolve("model.safetensors");
    assertThatThrownBy(() -> loadSafetensors(bytes)).isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": " + message);
  }

  static byte[] safetensors(long headerLength, String header, int dataBytes) {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(headerLength).put(json);
    return b.array();
  }

  private static final String LAYER = "{\"bn.running_mean\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\":"
      + " [0, 8]}, \"bn.running_var\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}";

  @Test
  void safetensorsHeadersThatClaimTooMuchAreRefused() {
    assertThat(loadSafetensors(safetensors(LAYER.length(), LAYER, 16)).layers()).hasSize(1);
    refusedSafetensors(safetensors(1L << 62, LAYER, 16), "header length: declares 4611686018427387904 bytes of"
        + " header in a file of " + (8 + LAYER.length() + 16) + " bytes (at most 100000000 are read); truncated or"
        + " not a safetensors file");
    refusedSafetensors(safetensors(-1, LAYER, 16), "header length: declares 18446744073709551615 bytes of header in a"
        + " file of " + (8 + LAYER.length() + 16) + " bytes (at most 100000000 are read); truncated or not a"
        + " safetensors file");
    refusedSafetensors(new byte[] {1, 2, 3}, "header length: the file has 3 bytes, fewer than the 8 of the header"
        + " length");
    refusedSafetensors(safetensors(LAYER.length(), LAYER, 12), "header: bn.running_var.data_offsets: [8, 16] lies"
        + " outside the 12 bytes of data the file holds");
    String wrongSize = LAYER.replace("[0, 8]", "[0, 4]");
    refusedSafetensors(safetensors(wrongSize.length(), wrongSize, 16), "header: bn.running_mean.data_offsets: spans 4"
        + " bytes, but shape [2] of float32 needs 8");
    String unknownType = LAYER.replace("\"F32\"", "\"F8_E4M3\"");
    refusedSafetensors(safetensors(unknownType.length(), unknownType, 16), "header: bn.running_mean.dtype: 'F8_E4M3'"
        + " is not a dtype bncheck reads");
    // an outside tester's finds: the variance read from the mean's bytes, and a shape the
    // safetensors library itself refuses
    String overlapping = LAYER.replace("[8, 16]", "[0, 8]");
    refusedSafetensors(safetensors(overlapping.length(), overlapping, 16), "header: bn.running_var.data_offsets:"
        + " overlaps the bytes of bn.running_mean");
    String fractionalShape = LAYER.replace("\"shape\": [2], \"data_offsets\": [0, 8]",
        "\"shape\": [2.0], \"data_offsets\": [0, 8]");
    refusedSafetensors(safetensors(fractionalShape.length(), fractionalShape, 16), "header: bn.running_mean.shape:"
        + " expected a non-negative integer, got 2.0");
    // a shape whose bytes overflow a long: the message said "needs 0" or a negative count
    String huge = LAYER.replace("\"shape\": [2], \"data_offsets\": [0, 8]",
        "\"shape\": [4611686018427387904], \"data_offsets\": [0, 0]");
    refusedSafetensors(safetensors(huge.length(), huge, 16), "header: bn.running_mean.shape: [4611686018427387904] of"
        + " float32 holds more bytes than a file can");
    String deep = "{\"a\":" + "[".repeat(100) + "]".repeat(100) + "}";
    assertThatThrownBy(() -> loadSafetensors(safetensors(deep.length(), deep, 0)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("header: not valid JSON: Document nesting depth");
  }

  /**
   * A storage key that swallowed the bytes after it (a fuzz find): the key, quoted in the message,
   * carried newlines and control characters into a one-line error.
   */
  @Test
  void aStorageKeyThatIsNoPlainNameIsRefusedWithoutQuotingIt() {
    Map<String, byte[]> entries = TorchZips.entries(TRAINED);
    String pickle = entries.keySet().stream().filter(n -> n.endsWith("/data.pkl")).findFirst().orElseThrow();
    byte[] original = entries.get(pickle);
    byte[] key = {'X', 1, 0, 0, 0, '0'};
    byte[] forged = {'X', 3, 0, 0, 0, '0', '\n', '1'};
    int at = indexOf(original, key);
    byte[] changed = new byte[original.length + forged.length - key.length];
    System.arraycopy(original, 0, changed, 0, at);
    System.arraycopy(forged, 0, changed, at, forged.length);
    System.arraycopy(original, at + key.length, changed, at + forged.length, original.length - at - key.length);
    entries.put(pickle, changed);
    Path file = TorchZips.write(temp.resolve("forged-key.pt"), TorchZips.stored(entries));

    assertThatThrownBy(() -> new BnModelFromTorchSave().load(file, CalibrationSink.NONE))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": " + pickle + ": a storage key that is no plain name (3 characters; torch.save numbers"
            + " its storages)");
  }

  @Test
  void theCommandLineTurnsARefusalIntoExitCodeThreeAndOneLine() {
    Map<String, byte[]> entries = TorchZips.entries(TRAINED);
    entries.put("../../escape", new byte[1]);
    Path file = TorchZips.write(temp.resolve("escape.pt"), TorchZips.stored(entries));
    CliRun run = CliRun.of("inspect", file.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).isEqualTo("bncheck: error: " + file + ": entry ../../escape: an absolute path or one that"
        + " leaves the archive (.., a drive letter or a backslash); a torch.save archive has none"
        + System.lineSeparator());
  }
}
