package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Healthy PyTorch MLPs trained on Student-t data whose rare rows are extreme
 * (scripts/make_heavy_tailed_tabular.py): their moving variances are averages of a few training
 * batches and as noisy as the data is heavy-tailed. Three of the four healthy runs were BN003 or
 * BN004 errors, more of them with more data. The model whose statistics were updated on three
 * batches only cannot be told from a healthy one by this data (its tails are too heavy for the
 * moving variance to be judged); PyTorch's update count tells, and makes it a warning that fails
 * `--fail-on warning`.
 */
class HeavyTailedTabularTest {

  private static final Path DIR = Path.of("src/test/resources/heavy-tailed");

  @ParameterizedTest(name = "{0} with {1}")
  @CsvSource({
      "healthy-0.pt, healthy-0-256.bn.json",
      "healthy-0.pt, healthy-0-1024.bn.json",
      "healthy-1.pt, healthy-1-256.bn.json",
      "healthy-1.pt, healthy-1-1024.bn.json"})
  void healthyModelsPass(String model, String dump) {
    CliRun run = CliRun.of("check", DIR.resolve(model).toString(), "--inputs", DIR.resolve(dump).toString());
    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).doesNotContain("] error ", "] warning ");
  }

  @Test
  void theStaleModelIsAWarningFromItsUpdateCount() {
    String[] args = {"check", DIR.resolve("stale-0.pt").toString(), "--inputs",
        DIR.resolve("stale-0-256.bn.json").toString()};
    CliRun run = CliRun.of(args);
    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).doesNotContain("] error ")
        .contains("[BN003] warning bn1: too uncertain to judge the moving statistics")
        .contains("num_batches_tracked records only 3 updates, after which an average that started at 0/1 still"
            + " holds 73% of its initial values");
    String[] failOnWarning = java.util.Arrays.copyOf(args, args.length + 2);
    failOnWarning[args.length] = "--fail-on";
    failOnWarning[args.length + 1] = "warning";
    assertThat(CliRun.of(failOnWarning).exitCode()).isEqualTo(1);
  }
}
