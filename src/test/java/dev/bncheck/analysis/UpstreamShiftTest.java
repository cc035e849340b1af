package dev.bncheck.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A layer whose inputs as in training match its statistics while at inference its means sit 1.5
 * deviations off (every channel; 4 batches of 64): BN003 says so when nothing upstream explains it.
 */
class UpstreamShiftTest {

  private static final LayerFixture HEALTHY = LayerFixture.healthy();

  private static LayerContext context(boolean upstreamQuiet) {
    BnLayer layer = HEALTHY.layer();
    LayerCalibration asInTraining = HEALTHY.calibration().orElseThrow();
    LayerCalibration atInference = LayerFixture.healthy().set(f -> {
      for (int c = 0; c < LayerFixture.CHANNELS; c++) {
        f.dataMean[c] += 1.5 * f.dataStd[c];
      }
    }).calibration().orElseThrow();
    BnModel model = new BnModel("test.json", "bncheck-dump v1", "keras", null, List.of(layer, layer));
    return new LayerContext(model, 1, layer, Optional.of(atInference),
        Optional.of(DivergenceMetrics.of(layer, atInference)), Optional.of(DivergenceMetrics.of(layer, asInTraining)),
        Thresholds.DEFAULTS, Optional.of(asInTraining), 2L * LayerContext.testsOf(layer), upstreamQuiet);
  }

  @Test
  void meansOffAtInferenceOnlyAreAnErrorNamingTheLayersBefore() {
    Finding finding = new StaleStatistics().check(context(true)).orElseThrow();
    assertThat(finding.severity()).isEqualTo(Severity.ERROR);
    assertThat(finding.message()).startsWith("what reaches this layer at inference differs from what reached it in"
        + " training: standardized mean shift -1.");
    assertThat(finding.evidence()).contains(new Evidence("likely_cause", "upstream_statistics"),
        new Evidence("view", "inference"), new Evidence("channels_significantly_beyond_error", 8));
  }

  /** Heavy tails or an error upstream explain it: the training view's verdict stands (nothing here). */
  @Test
  void withAnExplanationUpstreamTheTrainingViewDecides() {
    assertThat(new StaleStatistics().check(context(false))).isEmpty();
  }

  /** A warning before the layer, or BN011 anywhere, may be why: the error becomes a warning. */
  @Test
  void aFindingBeforeTheLayerMakesItAWarning() {
    Finding shifted = new StaleStatistics().check(context(true)).orElseThrow();
    for (Finding cause : List.of(new Finding("BN003", Severity.WARNING, 0, "bn0", "", List.of(), ""),
        new Finding("BN011", Severity.WARNING, 2, "calibration data", "", List.of(), ""))) {
      List<Finding> findings = new java.util.ArrayList<>(List.of(cause, shifted));
      UpstreamShift.weigh(findings);
      assertThat(findings.get(1).severity()).isEqualTo(Severity.WARNING);
      assertThat(findings.get(1).message()).endsWith("; " + cause.code() + " on " + cause.layer()
          + " comes before it and may be why, so this is a warning");
    }
    List<Finding> after = new java.util.ArrayList<>(List.of(shifted,
        new Finding("BN006", Severity.WARNING, 2, "bn2", "", List.of(), "")));
    UpstreamShift.weigh(after);
    assertThat(after.get(0).severity()).isEqualTo(Severity.ERROR);
  }

  @Test
  void aLayerLeavesTheNextQuietWithoutHeavyTailsOrAnErrorOfItsOwn() {
    Optional<LayerCalibration> light = HEALTHY.calibration();
    Finding error = new Finding("BN003", Severity.ERROR, 0, "bn", "", List.of(), "");
    Finding warning = new Finding("BN003", Severity.WARNING, 0, "bn", "", List.of(), "");
    assertThat(UpstreamShift.leavesQuiet(light, List.of(warning))).isTrue();
    assertThat(UpstreamShift.leavesQuiet(light, List.of(error))).isFalse();
    assertThat(UpstreamShift.leavesQuiet(Optional.empty(), List.of())).isFalse();
    // one row 60 deviations out in one of 8 batches: its variance varies far more than normal data's
    assertThat(UpstreamShift.leavesQuiet(Optional.of(RareRowsTest.normalBatches(8, 60, 4)), List.of())).isFalse();
    assertThat(UpstreamShift.leavesQuiet(Optional.of(RareRowsTest.normalBatches(8, 0, 4)), List.of())).isTrue();
  }
}
