package dev.bncheck.load.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad and hostile Keras files end in one line naming the file and the member, field or dataset,
 * before anything large is allocated.
 */
class HostileKerasFilesTest {

  @TempDir Path dir;

  private static AbstractThrowableAssert<?, ? extends Throwable> refused(Path file) {
    return assertThatThrownBy(() -> new BnModelFromKeras().load(file, CalibrationSink.NONE))
        .isInstanceOf(InvalidInputException.class)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").startsWith(file + ": "));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "huge-contiguous.h5 | model_weights/bn1/bn1/moving_mean: declares 1099511627776 channels; bncheck reads 1 to 1048576 (moving_mean of BN layer \"bn1\")",
      "huge-chunked.h5    | model_weights/bn1/bn1/moving_mean: declares 1099511627776 channels; bncheck reads 1 to 1048576 (moving_mean of BN layer \"bn1\")",
      "matrix.h5          | model_weights/bn1/bn1/moving_variance: a vector (one value per channel) expected, got shape [8, 8] (moving_variance of BN layer \"bn1\")",
      "external-link.h5   | model_weights/bn1/bn1/gamma: a link; bncheck reads no object but those stored in the file (gamma of BN layer \"bn1\")",
      "integers.h5        | model_weights/bn1/bn1/beta: holds int values, not floating-point numbers (beta of BN layer \"bn1\")",
      "unwritten.h5       | model_weights/bn1/bn1/moving_mean: holds no stored values (the dataset was created but never written) (moving_mean of BN layer \"bn1\")",
      "axis-out-of-range.h5 | attribute model_config: layers[2] (bn1).axis: 9 is no axis of a tensor of rank 8 or less"})
  void hostileHdf5DatasetsAreRefusedBeforeTheyAreRead(String fixture, String message) {
    Path file = KerasFixtures.file("hostile/" + fixture);
    refused(file).hasMessage(file + ": " + message);
  }

  @Test
  void truncatedHdf5FileIsAnInputError() throws IOException {
    byte[] whole = Files.readAllBytes(KerasFixtures.file("healthy.h5"));
    for (int cut : new int[] {8, 100, 2_000, whole.length / 2, whole.length - 100}) {
      Path file = Files.write(dir.resolve("cut" + cut + ".h5"), Arrays.copyOf(whole, cut));
      refused(file);
    }
  }

  @Test
  void truncatedArchiveIsAnInputError() throws IOException {
    byte[] whole = Files.readAllBytes(KerasFixtures.file("healthy.keras"));
    Path file = Files.write(dir.resolve("cut.keras"), Arrays.copyOf(whole, whole.length / 2));
    refused(file).hasMessageContaining("not a valid .keras file (a ZIP archive)");
  }

  @ParameterizedTest(name = "{arguments}")
  @CsvSource({"../../evil.sh", "/etc/cron.d/evil", "assets/../../evil", "C:/evil", "..\\evil"})
  void archiveEntryThatWouldLeaveItsFolderIsRefused(String entry) throws IOException {
    Map<String, byte[]> members = KerasArchives.members("healthy.keras");
    members.put(entry, "echo owned".getBytes(StandardCharsets.UTF_8));
    Path file = KerasArchives.write(members, dir.resolve("traversal.keras"));
    refused(file).hasMessage(file + ": entry " + entry + ": a path that leaves the archive's folder (absolute, or"
        + " with ..); refused");
  }

  @Test
  void zipBombConfigIsRefusedByItsDeclaredSizeBeforeItIsInflated() throws IOException {
    Map<String, byte[]> members = KerasArchives.members("healthy.keras");
    members.put("config.json", new byte[(int) KerasLimits.MAX_CONFIG_BYTES + 1]);
    Path file = KerasArchives.write(members, dir.resolve("bomb.keras"));
    assertThat(Files.size(file)).as("a small archive").isLessThan(1L << 20);
    refused(file).hasMessage(file + ": config.json: declares " + (KerasLimits.MAX_CONFIG_BYTES + 1)
        + " bytes; bncheck reads at most " + KerasLimits.MAX_CONFIG_BYTES);
  }

  @Test
  void memberWhoseDeclaredSizeLiesIsRefused() throws IOException {
    Map<String, byte[]> members = KerasArchives.members("healthy.keras");
    members.put("config.json", new byte[1 << 20]);
    byte[] zip = KerasArchives.zip(members);
    // the central directory's uncompressed size of config.json, forged to 2 GB
    int central = lastIndexOf(zip, new byte[] {'P', 'K', 1, 2}, "config.json");
    writeInt(zip, central + 24, 0x7fff_0000);
    Path file = Files.write(dir.resolve("forged.keras"), zip);
    refused(file).hasMessageStartingWith(file + ": config.json: corrupt ZIP archive: declares 2147418112 bytes from");
  }

  @Test
  void changedByteInAStoredMemberFailsItsChecksum() throws IOException {
    byte[] zip = Files.readAllBytes(KerasFixtures.file("healthy.keras"));
    int weights = lastIndexOf(zip, new byte[] {'P', 'K', 1, 2}, "model.weights.h5");
    int offset = (zip[weights + 42] & 0xff) | (zip[weights + 43] & 0xff) << 8 | (zip[weights + 44] & 0xff) << 16;
    zip[offset + 30 + "model.weights.h5".length() + 5000] ^= 0x40;
    Path file = Files.write(dir.resolve("flipped.keras"), zip);
    refused(file).hasMessage(file + ": model.weights.h5: corrupt ZIP archive: the member's CRC-32 does not match its"
        + " data");
  }

  @Test
  void archiveWithoutWeightsNamesTheMissingMember() throws IOException {
    Map<String, byte[]> members = KerasArchives.members("healthy.keras");
    members.remove("model.weights.h5");
    Path file = KerasArchives.write(members, dir.resolve("no-weights.keras"));
    refused(file).hasMessageStartingWith(file + ": model.weights.h5: missing from the archive");
  }

  @Test
  void configThatIsNotJsonIsAnInputError() throws IOException {
    Path file = KerasArchives.withConfig("healthy.keras", dir.resolve("bad.keras"), c -> c.substring(0, 100));
    refused(file).hasMessageStartingWith(file + ": config.json: not valid JSON: ");
  }

  @Test
  void configWhoseLayerHasNoWeightsNamesTheLayer() throws IOException {
    Path file = KerasArchives.withConfig("healthy.keras", dir.resolve("renamed.keras"),
        c -> c.replace("\"name\": \"bn1\"", "\"name\": \"bn9\""));
    refused(file).hasMessage(file + ": model.weights.h5: layers: no weights for layer \"bn9\" (of BN layer \"bn9\" in"
        + " config.json): the config does not match the weights");
  }

  @Test
  void configThatClaimsAScaleTheWeightsDoNotHoldIsAMismatch() throws IOException {
    Path file = KerasArchives.withConfig("healthy.keras", dir.resolve("scale.keras"),
        c -> c.replace("\"scale\": false", "\"scale\": true"));
    refused(file).hasMessage(file + ": model.weights.h5: layers/batch_normalization_1/vars: holds 3 weights; the"
        + " config of BN layer \"bn2\" (center true, scale true) gives 4 (gamma, beta, moving_mean, moving_variance):"
        + " the config does not match the weights");
  }

  @Test
  void bnLayerWithoutEpsilonIsAnErrorNamingIt() throws IOException {
    Path file = KerasArchives.withConfig("healthy.keras", dir.resolve("eps.keras"),
        c -> c.replace("\"epsilon\": 0.01,", ""));
    refused(file).hasMessage(file + ": config.json: layers[5] (bn2).epsilon: missing");
  }

  @Test
  void bnLayerOverTwoAxesIsAnErrorNamingIt() throws IOException {
    Path file = KerasArchives.withConfig("healthy.keras", dir.resolve("axes.keras"),
        c -> c.replaceFirst("\"axis\": -1", "\"axis\": [1, 3]"));
    refused(file).hasMessage(file + ": config.json: layers[2] (bn1).axis: normalizes over 2 axes [1,3]; bncheck"
        + " checks layers with one channel axis");
  }

  @Test
  void layersOfUnknownClassesAreSkipped() throws IOException {
    Path file = KerasArchives.withConfig("healthy.keras", dir.resolve("custom.keras"),
        c -> c.replace("\"class_name\": \"ReLU\"", "\"class_name\": \"MyCustomActivation\"")
            .replace("\"class_name\": \"Conv2D\"", "\"class_name\": \"SomethingElse\""));
    assertThat(new BnModelFromKeras().load(file, CalibrationSink.NONE).layers()).extracting(BnLayer::name)
        .containsExactly("bn1", "bn2");
  }

  /** The weights of an archive taken out alone are a weights-only file: read, with Keras's defaults assumed. */
  @Test
  void weightsTakenOutOfAnArchiveAreReadAsAWeightsOnlyFile() throws IOException {
    Path file = dir.resolve("model.weights.h5");
    Files.write(file, KerasArchives.members("healthy.keras").get("model.weights.h5"));
    BnModel model = new BnModelFromKeras().load(file, CalibrationSink.NONE);
    assertThat(model.layers()).extracting(BnLayer::name).containsExactlyInAnyOrder("bn1", "bn2");
    assertThat(model.format()).contains("a weights-only file");
  }

  /**
   * A hard link back to a parent group: a walk of the weights' groups never ended (an outside
   * tester's weights-only file ran past 300 s and 2 GB; a subclassed model's ended in a stack
   * overflow and a 27 KB line).
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"weights-cycle.weights.h5:layers/loop", "subclassed-cycle.keras:block/loop"})
  void aLinkCycleAmongTheWeightsIsRefusedAtOnce(String fileAndGroup) {
    String[] parts = fileAndGroup.split(":");
    Path file = Path.of("src/test/resources/keras-files/hostile/" + parts[0]);
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () ->
        refused(file).hasMessage(file + ": " + parts[1] + ": a group reached a second time (a hard link); Keras writes"
            + " none"));
  }

  /** A weights-only layer with five variables is no BatchNormalization layer Keras writes. */
  @Test
  void aWeightsOnlyBnGroupWithTooManyVariablesIsRefused() throws IOException {
    Path file = dir.resolve("five.weights.h5");
    Files.copy(Path.of("src/test/resources/keras-files/hostile/five-vars.weights.h5"), file);
    refused(file).hasMessage(file + ": layers/batch_normalization/vars: holds 5 variables; a BatchNormalization"
        + " layer has 2 to 4 (gamma, beta, moving_mean, moving_variance)");
  }

  /**
   * The vars groups' name attributes swapped: Keras loads by group path, so each layer got the
   * other's statistics without a word (an outside tester's find).
   */
  @Test
  void weightsWhoseNamesDisagreeWithTheirPlacesAreRefused() {
    Path file = Path.of("src/test/resources/keras-files/hostile/swapped-vars-names.keras");
    refused(file).hasMessage(file + ": model.weights.h5: layers/batch_normalization_1/vars: its name attribute says"
        + " layer \"bn1\", but Keras loads layers/batch_normalization into that layer: the weights' names disagree"
        + " with their places");
  }

  /** Any HDF5 file was called a weights-only Keras file (an outside tester's find). */
  @Test
  void hdf5FileThatIsNoKerasModelSaysSo() {
    Path file = Path.of("src/test/resources/keras-files/hostile/not-keras.h5");
    refused(file).hasMessage(file + ": attribute model_config: missing: an HDF5 file, but not a Keras model (no"
        + " model_config, no Keras weights)");
  }

  @Test
  void fileThatIsNeitherZipNorHdf5IsAnInputError() throws IOException {
    Path file = Files.writeString(dir.resolve("text.h5"), "hello");
    refused(file).hasMessage(file + ": neither a Keras 3 archive (a ZIP file) nor an HDF5 file");
  }

  private static int lastIndexOf(byte[] data, byte[] signature, String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    for (int i = data.length - signature.length - 46; i >= 0; i--) {
      if (Arrays.equals(data, i, i + 4, signature, 0, 4) && Arrays.equals(data, i + 46, i + 46 + n.length, n, 0, n.length)) {
        return i;
      }
    }
    throw new IllegalStateException("no central directory entry for " + name);
  }

  private static void writeInt(byte[] data, int at, int value) {
    for (int i = 0; i < 4; i++) {
      data[at + i] = (byte) (value >>> (8 * i));
    }
  }
}
