package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Healthy PyTorch MLPs trained on Student-t data whose rare rows are extreme
 * (scripts/make_heavy_tailed_tabular.py): their moving variances are averages of a few training
 * batches and as noisy as the data is heavy-tailed. Three of the four healthy runs were BN003 or
 * BN004 errors, more of them with more data; the model whose statistics were updated on three
 * batches only must still fail.
 */
class HeavyTailedTabularTest {

  private static final Path DIR = Path.of("src/test/resources/heavy-tailed");

  @ParameterizedTest(name = "{0} with {1}")
  @CsvSource({
      "healthy-0.pt, healthy-0-256.bn.json, 0",
      "healthy-0.pt, healthy-0-1024.bn.json, 0",
      "healthy-1.pt, healthy-1-256.bn.json, 0",
      "healthy-1.pt, healthy-1-1024.bn.json, 0",
      "stale-0.pt, stale-0-256.bn.json, 1"})
  void healthyModelsPassAndTheStaleOneFails(String model, String dump, int exitCode) {
    CliRun run = CliRun.of("check", DIR.resolve(model).toString(), "--inputs", DIR.resolve(dump).toString());
    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(exitCode);
    if (exitCode == 1) {
      assertThat(run.out()).contains("[BN003] error bn2: moving statistics differ from the calibration data");
    } else {
      assertThat(run.out()).doesNotContain("] error ", "] warning ");
    }
  }
}
