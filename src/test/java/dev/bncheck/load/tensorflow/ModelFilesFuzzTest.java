package dev.bncheck.load.tensorflow;

import dev.bncheck.ThirdPartyFixtures;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.CalibrationSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Truncated and mutated model files give a model or a clean input error, nothing else: the
 * frozen-graph reader, the SavedModel reader with its op check, and the Keras metadata scanner.
 * A bounded run here; raise the tries (or run with -Djqwik.tries.default=...) for a longer one.
 */
class ModelFilesFuzzTest {

  static Path root;
  static byte[] frozen;
  static byte[] savedModel;
  static byte[] kerasMetadata;

  @BeforeContainer
  static void models() throws IOException {
    root = Files.createTempDirectory("bncheck-fuzz");
    frozen = Files.readAllBytes(TfTestModels.frozenGraph(root.resolve("frozen"), TfTestModels.FrozenVariant.DECOMPOSED)
        .path());
    savedModel = Files.readAllBytes(Path.of("samples/keras-cnn-trained/saved_model.pb"));
    // The scanner reads keras_metadata.pb and saved_model.pb alike; this TF 2.3 Keras model keeps
    // its layer configs in saved_model.pb.
    kerasMetadata = Files.readAllBytes(
        ThirdPartyFixtures.require("keras-trained-dscnn/aww_pretrained_model_v01/saved_model.pb"));
  }

  @AfterContainer
  static void clean() throws IOException {
    try (var walk = Files.walk(root)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  static byte[] mutate(byte[] original, int cut, int at, int value) {
    byte[] b = Arrays.copyOf(original, Math.max(1, Math.min(original.length, cut)));
    b[at % b.length] = (byte) value;
    return b;
  }

  @Property(tries = 300)
  void frozenGraph(@ForAll @IntRange(min = 1, max = 1 << 20) int cut, @ForAll @IntRange(min = 0, max = 1 << 20) int at,
      @ForAll @IntRange(min = 0, max = 255) int value) throws IOException {
    Path file = Files.write(root.resolve("graph.pb"), mutate(frozen, cut, at, value));
    try {
      new BnModelFromFrozenGraph().load(file, CalibrationSink.NONE);
    } catch (InvalidInputException expected) {
      // The only acceptable failure.
    }
  }

  /** Runs the Java side only: the op check refuses or the model has no variables to restore. */
  @Property(tries = 40)
  void savedModel(@ForAll @IntRange(min = 1, max = 1 << 20) int cut, @ForAll @IntRange(min = 0, max = 1 << 20) int at,
      @ForAll @IntRange(min = 0, max = 255) int value) throws IOException {
    Path dir = Files.createDirectories(root.resolve("saved"));
    Files.write(dir.resolve("saved_model.pb"), mutate(savedModel, cut, at, value));
    try {
      new BnModelFromSavedModel().load(dir, CalibrationSink.NONE);
    } catch (InvalidInputException expected) {
      // The only acceptable failure.
    }
  }

  @Property(tries = 300)
  void kerasMetadataScannerNeverThrows(@ForAll @IntRange(min = 1, max = 1 << 20) int cut,
      @ForAll @IntRange(min = 0, max = 1 << 20) int at, @ForAll @IntRange(min = 0, max = 255) int value)
      throws IOException {
    Path dir = Files.createDirectories(root.resolve("meta"));
    Files.write(dir.resolve("keras_metadata.pb"), mutate(kerasMetadata, cut, at, value));
    KerasMetadata.read(dir);
  }
}
