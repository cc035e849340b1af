package dev.bncheck.load.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run reads an ONNX model's file once, for its side files and its session alike. */
class ModelReadOnceTest {

  @TempDir Path dir;

  /** The file is gone after the side files were listed: the session opens on what was read. */
  @Test
  void theSessionOpensOnTheBytesTheSideFilesWereReadFrom() throws IOException {
    Path model = Files.copy(OnnxModelsTest.DIR.resolve("cnn-eval.onnx"), dir.resolve("model.onnx"));
    BnModelFromOnnx loader = new BnModelFromOnnx();
    assertThat(loader.sideFiles(model)).isEmpty();
    Files.delete(model);
    try (ModelSession session = loader.open(model, LoadOptions.DEFAULTS)) {
      assertThat(session.model().layers()).hasSize(2);
    }
  }

  /** Another file, or a second session, reads the file again. */
  @Test
  void onlyTheNextSessionOfTheSameFileTakesIt() throws IOException {
    Path external = OnnxModelsTest.DIR.resolve("cnn-external.onnx");
    Path model = Files.copy(OnnxModelsTest.DIR.resolve("cnn-eval.onnx"), dir.resolve("model.onnx"));
    BnModelFromOnnx loader = new BnModelFromOnnx();
    assertThat(loader.sideFiles(external)).singleElement()
        .satisfies(file -> assertThat(file.getFileName()).hasToString("cnn-external.onnx.data"));
    try (ModelSession session = loader.open(model, LoadOptions.DEFAULTS)) {
      assertThat(session.model().layers()).hasSize(2);
    }
    loader.sideFiles(model);
    try (ModelSession session = loader.open(model, LoadOptions.DEFAULTS)) {
      assertThat(session.model().layers()).hasSize(2);
    }
    Files.delete(model);
    assertThatThrownBy(() -> loader.open(model, LoadOptions.DEFAULTS))
        .hasMessageContaining("model.onnx");
  }
}
