package dev.bncheck.samples.mistakes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.samples.mistakes.Tf1MistakesGenerator.Data;
import dev.bncheck.samples.mistakes.Tf1MistakesGenerator.Variant;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed TF1 samples are exactly what the generator makes: retraining a variant rewrites
 * the same bytes, so a regenerated sample diffs only where the generator changed.
 */
class Tf1MistakesReproducibilityTest {

  @TempDir
  Path dir;

  @Test
  void retrainingTheStaleDecayVariantRewritesTheCommittedBytes() throws IOException {
    Variant v = Variant.STALE_DECAY;
    Data train = Tf1MistakesGenerator.dataset(Tf1MistakesGenerator.TRAIN_N, Tf1MistakesGenerator.TRAIN_SEED);
    Data test = Tf1MistakesGenerator.dataset(Tf1MistakesGenerator.TEST_N, Tf1MistakesGenerator.TEST_SEED);
    Path out = dir.resolve(v.dir);
    Tf1MistakesGenerator.trainAndExport(v, train, test, out);
    for (String file : new String[] {"saved_model.pb", "variables/variables.index",
        "variables/variables.data-00000-of-00001"}) {
      assertThat(Files.readAllBytes(out.resolve(file))).as(file).isEqualTo(Files.readAllBytes(v.path().resolve(file)));
    }
  }
}
