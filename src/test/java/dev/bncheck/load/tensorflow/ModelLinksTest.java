package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.Loaders;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SavedModel holding symbolic links or special files: TensorFlow would follow the links, and
 * recalibrate's copy of the assets would put what they reach into the output model.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ModelLinksTest {

  private static final String SECRET = "CI_TOKEN=do-not-leak";

  @TempDir Path dir;

  private Path model() {
    return TfTestModels.functionSavedModel(dir.resolve("model"), TfTestModels.FunctionVariant.STATEFUL).path();
  }

  private Path secret() throws IOException {
    return Files.writeString(dir.resolve("environ"), SECRET);
  }

  private static void load(Path model) {
    Loaders.forModel(model).load(model, LoadOptions.DEFAULTS, new CalibrationAccumulator());
  }

  private static void mkfifo(Path path) throws Exception {
    Process mkfifo = new ProcessBuilder("mkfifo", path.toString()).start();
    assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(mkfifo.exitValue()).isZero();
  }

  private static List<Path> filesIn(Path directory) throws IOException {
    try (Stream<Path> walk = Files.walk(directory)) {
      return walk.filter(Files::isRegularFile).toList();
    }
  }

  @Test
  void aCheckpointLinkedFromOutsideIsRefusedBeforeTensorFlowReadsIt() throws IOException {
    Path model = model();
    Path data;
    try (Stream<Path> files = Files.list(model.resolve("variables"))) {
      data = files.filter(p -> p.getFileName().toString().startsWith("variables.data")).findFirst().orElseThrow();
    }
    Path outside = Files.move(data, dir.resolve("weights"));
    Files.createSymbolicLink(data, outside);
    assertThatThrownBy(() -> load(model)).isInstanceOf(InvalidInputException.class)
        .hasMessage(data + ": a symbolic link inside the model; bncheck reads only regular files of a model"
            + " (docs/security.md)");
  }

  @Test
  void aModelReachedThroughALinkLoads() {
    Path model = model();
    Path link = dir.resolve("current");
    try {
      Files.createSymbolicLink(link, model);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    load(link);
  }

  @Test
  void recalibratedCopyRefusesAnAssetLinkedOutOfTheModel() throws IOException {
    Path model = model();
    Path out = Files.createDirectory(dir.resolve("out"));
    try (SavedModelSession session = SavedModelSession.open(model, LoadOptions.DEFAULTS)) {
      // Appears after the model was opened, so that only the copy stands in the way.
      Files.createDirectory(model.resolve("assets"));
      Files.createSymbolicLink(model.resolve("assets/vocab.txt"), secret());
      assertThatThrownBy(() -> session.saveTo(out)).isInstanceOf(InvalidInputException.class)
          .hasMessage(model.resolve("assets/vocab.txt") + ": a symbolic link inside the model;"
              + " bncheck reads only regular files of a model (docs/security.md)");
    }
    for (Path file : filesIn(out)) {
      assertThat(Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain(SECRET);
    }
  }

  @Test
  void recalibratedCopyRefusesALinkedAssetsDirectoryAndAPipeWithoutBlocking() throws Exception {
    Path model = model();
    try (SavedModelSession session = SavedModelSession.open(model, LoadOptions.DEFAULTS)) {
      Path outside = Files.createDirectory(dir.resolve("home"));
      Files.writeString(outside.resolve("id_rsa"), SECRET);
      Files.createSymbolicLink(model.resolve("assets"), outside);
      assertThatThrownBy(() -> session.saveTo(Files.createDirectory(dir.resolve("out1"))))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageStartingWith(model.resolve("assets") + ": a symbolic link inside the model");
      Files.delete(model.resolve("assets"));
      Files.createDirectories(model.resolve("assets.extra"));
      mkfifo(model.resolve("assets.extra/tf_serving_warmup_requests"));
      assertThatThrownBy(() -> session.saveTo(Files.createDirectory(dir.resolve("out2"))))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageStartingWith(model.resolve("assets.extra/tf_serving_warmup_requests")
              + ": not a regular file (a pipe, socket or device) inside the model");
    }
  }

  @Test
  void recalibratedCopyKeepsRegularAssetsEmptyDirectoriesAndModes() throws IOException {
    Path model = model();
    Path vocab = Files.writeString(Files.createDirectories(model.resolve("assets/nested")).resolve("vocab.txt"), "a\nb\n");
    Files.setPosixFilePermissions(vocab, PosixFilePermissions.fromString("rw-r-----"));
    Files.createDirectories(model.resolve("assets.extra/empty"));
    Path out = Files.createDirectory(dir.resolve("out"));
    try (SavedModelSession session = SavedModelSession.open(model, LoadOptions.DEFAULTS)) {
      session.saveTo(out);
    }
    assertThat(out.resolve("assets/nested/vocab.txt")).hasContent("a\nb\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("assets/nested/vocab.txt"))))
        .isEqualTo("rw-r-----");
    assertThat(out.resolve("assets.extra/empty")).isEmptyDirectory();
    assertThat(out.resolve("saved_model.pb")).hasSameBinaryContentAs(model.resolve("saved_model.pb"));
  }
}
