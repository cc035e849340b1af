package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.ThirdPartyFixtures;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The metadata scanner on hostile files: unreadable metadata is ignored, as a missing file is. */
class KerasMetadataTest {

  @TempDir Path dir;

  /** TF 2.3 kept the metadata in saved_model.pb's object graph; no keras_metadata.pb beside it. */
  @Test
  void keepsTheMomentumOfARealKerasModel() {
    Path model = ThirdPartyFixtures.require("keras-trained-dscnn/aww_pretrained_model_v01");

    assertThat(KerasMetadata.read(model)).hasSize(9)
        .allSatisfy((name, config) -> assertThat(config.momentum()).isPresent());
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void lengthThatWrapsAroundBackToTheStartIsIgnoredNotLoopedOn() throws IOException {
    // Field 1, length 2^63 - 10: added to the position after it (10) in 64 bits and cut to an int,
    // the field's end was position 0 again.
    Files.write(dir.resolve("keras_metadata.pb"), new byte[] {0x0A, (byte) 0xF6, (byte) 0xFF, (byte) 0xFF,
        (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F});

    assertThat(KerasMetadata.read(dir)).isEmpty();
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void metadataOverTwoGigabytesIsIgnoredWithoutReadingIt() throws IOException {
    try (RandomAccessFile sparse = new RandomAccessFile(dir.resolve("keras_metadata.pb").toFile(), "rw")) {
      sparse.setLength(3L << 30);
    }

    assertThat(KerasMetadata.read(dir)).isEmpty();
  }
}
