package dev.bncheck.analysis;

import java.util.ArrayList;
import java.util.List;

/**
 * Weighs BN003's early-stop reading of one layer against the other layers. One training run
 * updates every BN layer's average the same number of times, so an early stop shows on every
 * stale layer; when another layer's statistics fit no early stop at all (its means and variances
 * moved by different amounts, or the fit contradicts its recorded count), the early stop read on
 * this layer is the weaker explanation and the data comes first.
 *
 * <p>Only a layer whose inputs the stale layer cannot have changed may contradict it: one before
 * it, or one judged on the training view (every layer normalizing with batch statistics). A later
 * layer judged on the inference view receives what the stale layer's statistics made of the data,
 * which no average fits: a dump of a model trained 300 steps at decay 0.999 had its early stop
 * read as the data's fault that way, and recalibrate refused to fix it. For the same reason such
 * a later layer's own reading, the data, gives way to the early stop read before it: a PyTorch
 * model trained 600 steps at momentum 0.001 had its first layer named an early stop (600 updates,
 * confirmed by its count) and its second the data's fault, on data from the training distribution.
 */
final class EarlyStopAgreement {

  private static final Evidence EARLY_STOP = new Evidence("likely_cause", "too_few_updates");
  private static final Evidence DATA_DIFFERS = new Evidence("likely_cause", "data_differs");
  private static final Evidence MEDIUM = new Evidence("cause_confidence", "medium");
  private static final Evidence TRAINING_VIEW = new Evidence("view", "training");

  private EarlyStopAgreement() {}

  /** Names the data in place of unconfirmed early stops that another layer contradicts. */
  static void weigh(List<Finding> findings) {
    List<Finding> contradictions = findings.stream()
        .filter(f -> stale(f) && f.evidence().contains(DATA_DIFFERS) && f.evidence().contains(MEDIUM))
        .toList();
    // a count that num_batches_tracked confirms (confidence high) stands on its own
    findings.replaceAll(f -> {
      if (!stale(f) || !f.evidence().contains(EARLY_STOP) || !f.evidence().contains(MEDIUM)) {
        return f;
      }
      return contradictions.stream()
          .filter(c -> c.layerIndex() < f.layerIndex() || c.evidence().contains(TRAINING_VIEW))
          .findFirst().map(c -> contradicted(f, c.layer())).orElse(f);
    });
    findings.stream().filter(f -> stale(f) && f.evidence().contains(EARLY_STOP)).findFirst()
        .ifPresent(upstream -> findings.replaceAll(f -> stale(f) && f.layerIndex() > upstream.layerIndex()
            && f.evidence().contains(DATA_DIFFERS) && !f.evidence().contains(TRAINING_VIEW) ? sameCause(f, upstream) : f));
  }

  /** A later layer judged on the inference view, read as the early stop of the stale layer its input passed through. */
  private static Finding sameCause(Finding f, Finding upstream) {
    List<Evidence> evidence = new ArrayList<>();
    for (Evidence e : f.evidence()) {
      if (!e.name().equals("likely_cause") && !e.name().equals("cause_confidence")) {
        evidence.add(e);
      }
    }
    evidence.add(EARLY_STOP);
    upstream.evidence().stream().filter(e -> e.name().equals("cause_confidence")).findFirst().ifPresent(evidence::add);
    evidence.add(new Evidence("cause_from_layer", upstream.layer()));
    String message = f.message() + "; but what reaches this layer passed through " + upstream.layer() + ", whose"
        + " statistics an average stopped early explains, and training updates every BN layer alike: this layer's"
        + " statistics most likely stopped early too";
    return new Finding(f.code(), f.severity(), f.layerIndex(), f.layer(), message, evidence, upstream.fix());
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
