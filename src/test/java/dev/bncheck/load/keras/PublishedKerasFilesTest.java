package dev.bncheck.load.keras;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.ThirdPartyFixtures;
import dev.bncheck.cli.CliRun;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Keras files another project published (fixtures/dl4j-keras-untrained-bn), written by Keras 2.1.3
 * and tf.keras 2.2.4: every BN layer still holds its initial statistics, which {@code inspect}
 * reports as BN001 on each, with exit code 1.
 */
class PublishedKerasFilesTest {

  static Stream<Arguments> files() {
    return Stream.of(
        Arguments.of("cnn_batch_norm.h5", "Keras 2.1.3", List.of("batch_normalization_1")),
        Arguments.of("batchNormError.h5", "Keras 2.2.4-tf", List.of("batch_normalization")),
        Arguments.of("wgan_discriminator.h5", "Keras 2.1.3", List.of("batch_normalization_1", "batch_normalization_2")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("files")
  void everyBnLayerOfAPublishedUntrainedModelIsNeverUpdated(String file, String version, List<String> layers) {
    String path = ThirdPartyFixtures.require("dl4j-keras-untrained-bn/" + file).toString();
    CliRun run = CliRun.of("inspect", path);
    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    assertThat(run.out()).contains("Keras HDF5 file (.h5, " + version + ")");
    for (String layer : layers) {
      assertThat(run.out()).contains("[BN001] error " + layer + ": moving statistics still hold their initial values");
    }
    assertThat(run.out().split("\\[BN")).hasSize(layers.size() + 1);
  }
}
