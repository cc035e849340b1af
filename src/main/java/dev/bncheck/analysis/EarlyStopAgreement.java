package dev.bncheck.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Weighs BN003's early-stop reading of one layer against the other layers. One training run
 * updates every BN layer's average the same number of times, so an early stop shows on every
 * stale layer; when another layer's statistics fit no early stop at all (its means and variances
 * moved by different amounts, or the fit contradicts its recorded count), the early stop read on
 * this layer is the weaker explanation and the data comes first. An input offset in a model with
 * zero padding moved a first layer's variances as well as its means, and was read there as an
 * average stopped 75% of the way, while the next layer showed the offset plainly.
 */
final class EarlyStopAgreement {

  private static final Evidence EARLY_STOP = new Evidence("likely_cause", "too_few_updates");
  private static final Evidence DATA_DIFFERS = new Evidence("likely_cause", "data_differs");
  private static final Evidence MEDIUM = new Evidence("cause_confidence", "medium");

  private EarlyStopAgreement() {}

  /** Names the data in place of unconfirmed early stops that another layer contradicts. */
  static void weigh(List<Finding> findings) {
    Optional<Finding> contradiction = findings.stream()
        .filter(f -> stale(f) && f.evidence().contains(DATA_DIFFERS) && f.evidence().contains(MEDIUM))
        .findFirst();
    if (contradiction.isEmpty()) {
      return;
    }
    String other = contradiction.get().layer();
    // a count that num_batches_tracked confirms (confidence high) stands on its own
    findings.replaceAll(f -> stale(f) && f.evidence().contains(EARLY_STOP) && f.evidence().contains(MEDIUM)
        ? contradicted(f, other) : f);
  }

  private static boolean stale(Finding f) {
    return f.code().equals("BN003") && f.severity() != Severity.INFO;
  }

  private static Finding contradicted(Finding f, String other) {
    List<Evidence> evidence = new ArrayList<>();
    for (Evidence e : f.evidence()) {
      evidence.add(switch (e.name()) {
        case "likely_cause" -> DATA_DIFFERS;
        case "cause_confidence" -> new Evidence("cause_confidence", "low");
        default -> e;
      });
    }
    evidence.add(new Evidence("early_stop_contradicted_by", other));
    String message = f.message() + "; but the statistics of " + other + " fit no early stop, and training"
        + " updates every BN layer alike: the data likely differs from what the statistics were computed on";
    return new Finding(f.code(), f.severity(), f.layerIndex(), f.layer(), message, evidence, StaleStatistics.FIX_DATA);
  }
}
