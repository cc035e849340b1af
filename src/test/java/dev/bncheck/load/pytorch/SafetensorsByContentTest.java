package dev.bncheck.load.pytorch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.load.Loaders;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights saved with safetensors under another name (a .pth, as some training scripts name every
 * checkpoint, or no known extension) are read as safetensors: a .pth went to the torch.save reader,
 * which refused it as not a zip archive.
 */
class SafetensorsByContentTest {

  private static final Path TRAINED = Path.of("src/test/resources/pytorch/trained.safetensors");

  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"weights.pth", "weights.pt", "weights.bin"})
  void safetensorsContentIsReadWhateverTheName(String name) throws IOException {
    Path renamed = Files.copy(TRAINED, dir.resolve(name));
    assertThat(Loaders.forModel(renamed)).isInstanceOf(BnModelFromSafetensors.class);
    BnModel read = Loaders.forModel(renamed).load(renamed, CalibrationSink.NONE);
    BnModel original = new BnModelFromSafetensors().load(TRAINED, CalibrationSink.NONE);
    assertThat(read.layers()).extracting(BnLayer::name).isEqualTo(original.layers().stream().map(BnLayer::name).toList());
    for (int i = 0; i < read.layers().size(); i++) {
      assertThat(read.layers().get(i).movingVariance()).isEqualTo(original.layers().get(i).movingVariance());
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"trained-state_dict.pt", "trained-module.pt"})
  void torchSaveArchivesStayWithTheTorchSaveReader(String name) {
    assertThat(Loaders.forModel(Path.of("src/test/resources/pytorch", name))).isInstanceOf(BnModelFromTorchSave.class);
  }
}
