package dev.bncheck.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EarlyStopAgreementTest {

  private static Finding stale(int layer, Severity severity, String cause, String confidence) {
    return stale(layer, severity, cause, confidence, "inference");
  }

  private static Finding stale(int layer, Severity severity, String cause, String confidence, String view) {
    return new Finding("BN003", severity, layer, "bn" + layer, "moving statistics differ", List.of(
        new Evidence("view", view), new Evidence("likely_cause", cause), new Evidence("cause_confidence", confidence)),
        "fix");
  }

  @Test
  void anEarlyStopThatAnotherLayerContradictsNamesTheData() {
    List<Finding> findings = new ArrayList<>(List.of(
        stale(1, Severity.WARNING, "too_few_updates", "medium"),
        stale(2, Severity.ERROR, "data_differs", "medium", "training")));
    EarlyStopAgreement.weigh(findings);
    Finding first = findings.get(0);
    assertThat(first.evidence()).contains(new Evidence("likely_cause", "data_differs"),
        new Evidence("cause_confidence", "low"), new Evidence("early_stop_contradicted_by", "bn2"));
    assertThat(first.message()).contains("but the statistics of bn2 fit no early stop");
    assertThat(first.fix()).isEqualTo(StaleStatistics.FIX_DATA);
    assertThat(first.severity()).isEqualTo(Severity.WARNING);
    assertThat(findings.get(1).evidence()).doesNotContain(new Evidence("cause_confidence", "low"));
  }

  /**
   * A later layer judged on the inference view received what the stale layer's statistics made of
   * the data: it cannot contradict that layer (a stale dump's early stop was read as the data's
   * fault), and its own reading takes the early stop's cause (a model trained 600 steps at
   * momentum 0.001 had its second layer blamed on the data); an earlier layer can contradict.
   */
  @Test
  void onlyALayerTheStaleOneCannotHaveChangedContradictsIt() {
    List<Finding> downstream = new ArrayList<>(List.of(
        stale(1, Severity.ERROR, "too_few_updates", "medium"),
        stale(2, Severity.ERROR, "data_differs", "medium")));
    EarlyStopAgreement.weigh(downstream);
    assertThat(downstream.get(0).evidence()).contains(new Evidence("likely_cause", "too_few_updates"));
    Finding second = downstream.get(1);
    assertThat(second.evidence()).contains(new Evidence("likely_cause", "too_few_updates"),
        new Evidence("cause_confidence", "medium"), new Evidence("cause_from_layer", "bn1"))
        .doesNotContain(new Evidence("likely_cause", "data_differs"));
    assertThat(second.message()).endsWith("but what reaches this layer passed through bn1, whose statistics an average"
        + " stopped early explains, and training updates every BN layer alike: this layer's statistics most likely"
        + " stopped early too");
    assertThat(second.fix()).isEqualTo("fix");

    List<Finding> upstream = new ArrayList<>(List.of(
        stale(1, Severity.ERROR, "data_differs", "medium"),
        stale(2, Severity.ERROR, "too_few_updates", "medium")));
    EarlyStopAgreement.weigh(upstream);
    assertThat(upstream.get(1).evidence()).contains(new Evidence("early_stop_contradicted_by", "bn1"));
  }

  /** A count num_batches_tracked confirms stands; a low-confidence or informational reading contradicts nothing. */
  @Test
  void confirmedEarlyStopsAndWeakContradictionsAreLeftAlone() {
    List<Finding> confirmed = new ArrayList<>(List.of(
        stale(1, Severity.ERROR, "too_few_updates", "high"),
        stale(2, Severity.ERROR, "data_differs", "medium")));
    EarlyStopAgreement.weigh(confirmed);
    assertThat(confirmed.get(0).evidence()).contains(new Evidence("likely_cause", "too_few_updates"));

    List<Finding> weak = new ArrayList<>(List.of(
        stale(1, Severity.ERROR, "data_differs", "low"),
        stale(2, Severity.ERROR, "too_few_updates", "medium"),
        stale(3, Severity.INFO, "data_differs", "medium")));
    List<Finding> before = List.copyOf(weak);
    EarlyStopAgreement.weigh(weak);
    assertThat(weak).isEqualTo(before);
  }
}
