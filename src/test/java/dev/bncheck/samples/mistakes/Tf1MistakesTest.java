package dev.bncheck.samples.mistakes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.samples.mistakes.Tf1MistakesGenerator.Variant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * bncheck's verdict on each committed TF1 mistake model in samples/tf-bn-mistakes/tf1-* (made by
 * scripts/make-tf1-mistakes.sh), run in-process on the held-out inputs in samples/tf-bn-mistakes/tf1-data/.
 * Measured accuracies of the models are in samples/tf-bn-mistakes/tf1-data/README.md.
 */
class Tf1MistakesTest {

  private static final Set<String> BOTH_LAYERS = Set.of("bn1", "bn2");

  private static BnCheckRun check(Variant v) {
    return BnCheckRun.check(v.path());
  }

  private static List<String> layersWith(BnCheckRun run, String code) {
    return run.findings().stream().filter(f -> f.code().equals(code)).map(BnCheckRun.Finding::layer).toList();
  }

  /**
   * BN001 on both layers. This model once crashed bncheck: the training-view copy of a
   * VariableV2 graph with decomposed BN left a node marked as copied that was never added.
   */
  @Test
  void updateOpsNotRun() {
    BnCheckRun run = check(Variant.UPDATE_OPS_NOT_RUN);
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(1);
    assertThat(run.codes()).contains("BN001").doesNotContain("BN002", "BN008");
    assertThat(layersWith(run, "BN001")).containsExactlyInAnyOrderElementsOf(BOTH_LAYERS);
  }

  @Test
  void updateOpsNotRunInspect() {
    BnCheckRun run = BnCheckRun.run("inspect", Variant.UPDATE_OPS_NOT_RUN.path().toString(), "--format", "json");
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(1);
    assertThat(run.codes()).containsExactly("BN001");
    assertThat(layersWith(run, "BN001")).containsExactlyInAnyOrderElementsOf(BOTH_LAYERS);
  }

  @Test
  void unsharedCond() {
    BnCheckRun run = check(Variant.UNSHARED_COND);
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(1);
    assertThat(run.codes()).contains("BN001", "BN008").doesNotContain("BN002", "BN005");
    assertThat(layersWith(run, "BN001")).containsExactlyInAnyOrder("bn1_1", "bn2_1");
    assertThat(layersWith(run, "BN008")).containsExactlyInAnyOrder("bn1_1", "bn2_1");
  }

  @Test
  void noControlDeps() {
    BnCheckRun run = check(Variant.NO_CONTROL_DEPS);
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(1);
    assertThat(run.codes()).contains("BN001").doesNotContain("BN002", "BN003", "BN005", "BN008");
    assertThat(layersWith(run, "BN001")).containsExactlyInAnyOrderElementsOf(BOTH_LAYERS);
  }

  @Test
  void staleDecay() {
    BnCheckRun run = check(Variant.STALE_DECAY);
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(1);
    assertThat(run.codes()).contains("BN003").doesNotContain("BN001", "BN002", "BN005", "BN008");
    assertThat(layersWith(run, "BN003")).containsExactlyInAnyOrderElementsOf(BOTH_LAYERS);
    // bn2, judged on the inference view, receives what bn1's stale statistics made of the data: its
    // own fit (means 9% of the way, variances 29%: 10 and 34 updates) is no early stop, and it
    // takes bn1's cause
    assertThat(run.findings()).filteredOn(f -> f.code().equals("BN003"))
        .allSatisfy(f -> assertThat(f.message()).containsAnyOf("the pattern fits an exponential average that started"
            + " at 0/1", "whose statistics an average stopped early explains"))
        .anySatisfy(f -> assertThat(f.message()).contains("the pattern fits an exponential average that started"
            + " at 0/1"));
  }

  @Test
  void trainingTrue() {
    BnCheckRun run = check(Variant.TRAINING_TRUE);
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(1);
    assertThat(run.codes()).contains("BN002", "BN005").doesNotContain("BN001", "BN008");
    assertThat(layersWith(run, "BN002")).containsExactlyInAnyOrderElementsOf(BOTH_LAYERS);
  }

  @Test
  void correct() {
    BnCheckRun run = check(Variant.CORRECT);
    assertThat(run.exitCode()).as(run.stderr() + run.stdout()).isZero();
    assertThat(run.findings()).isEmpty();
  }
}
