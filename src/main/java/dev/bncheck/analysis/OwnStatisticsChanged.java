package dev.bncheck.analysis;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Names a layer's own statistics, not the data, when BN003 finds a later layer off for no early
 * stop on the training view while every BN layer before it that had data matches it. On the
 * training view every layer normalizes with batch statistics, as in training, so what reaches the
 * layer is what training fed it once the data matches at the layers before: the likelier causes
 * are this layer's statistics changed since they were computed (another checkpoint's, a
 * conversion, an edit) or the weights just before it changed after them. On the inference view a
 * layer receives what the moving statistics before it made of the data, which can differ from
 * training's with every earlier layer within the thresholds (a healthy heavy-tailed MLP's second
 * layer, HeavyTailedTabularTest), so the data keeps its name there. An outside tester's PyTorch MLP
 * with one hidden layer's running variance multiplied by 10, its input layer clean, was told "the
 * data likely differs".
 */
final class OwnStatisticsChanged {

  static final String CAUSE = "layer_statistics_changed";
  static final String UPSTREAM_EPSILON = "upstream_epsilon";

  private static final Evidence DATA_DIFFERS = new Evidence("likely_cause", "data_differs");
  private static final Evidence TRAINING_VIEW = new Evidence("view", "training");

  static final String FIX = "the data reaching this layer matches the statistics of every BN layer before it, so"
      + " compare this layer's moving statistics with those of the trained checkpoint (a conversion, an edit or"
      + " variables restored from another checkpoint change them); if the weights before it were trained or"
      + " fine-tuned after its statistics were computed (this layer frozen), recompute the statistics on training"
      + " data (bncheck recalibrate; PyTorch: torch.optim.swa_utils.update_bn).";

  private OwnStatisticsChanged() {}

  /**
   * Renames the cause of every BN003 that names the data on the training view of a layer after the
   * first with data, where BN003 ran and passed on every layer before it that had data.
   *
   * @param layers the layers' results, in order, with their checks' outcomes
   */
  static void name(List<Finding> findings, List<LayerResult> layers) {
    List<Finding> all = List.copyOf(findings);
    findings.replaceAll(f -> {
      if (!f.code().equals("BN003") || f.severity() == Severity.INFO || !f.evidence().contains(DATA_DIFFERS)
          || !f.evidence().contains(TRAINING_VIEW)) {
        return f;
      }
      Optional<Finding> epsilon = epsilonInDoubtBefore(all, f.layerIndex());
      if (epsilon.isPresent()) {
        return blamedOnEpsilon(f, epsilon.get());
      }
      int judgedBefore = 0;
      for (LayerResult r : layers) {
        if (r.index() >= f.layerIndex() || r.metrics().isEmpty()) {
          continue;
        }
        if (!passed(r)) {
          return f;
        }
        judgedBefore++;
      }
      return judgedBefore == 0 ? f : renamed(f, judgedBefore);
    });
  }

  /**
   * Whether a layer before {@code index} has an epsilon that may not be the one it was trained with
   * (BN013, or BN009 on its epsilon): the training view runs with that epsilon too, so it is not
   * what training fed the layers after it. An outside tester's MLP served with every epsilon
   * raised had its third layer's statistics blamed.
   */
  private static Optional<Finding> epsilonInDoubtBefore(List<Finding> findings, int index) {
    return findings.stream().filter(f -> f.layerIndex() < index && (f.code().equals("BN013")
        || (f.code().equals("BN009") && f.evidence().stream().anyMatch(e -> e.name().equals("epsilon")))))
        .min(Comparator.comparing((Finding f) -> !f.code().equals("BN013")).thenComparingInt(Finding::layerIndex));
  }

  private static Finding blamedOnEpsilon(Finding f, Finding epsilon) {
    List<Evidence> evidence = withCause(f, UPSTREAM_EPSILON);
    evidence.add(new Evidence("epsilon_in_doubt_at", epsilon.layer()));
    String message = f.message() + "; but layer " + epsilon.layer() + " before it has an epsilon in doubt ("
        + epsilon.code() + "), and the training view normalizes with it too: what reaches this layer may not be what"
        + " training fed it";
    String fix = "first give layer " + epsilon.layer() + " (and every layer) the epsilon the model was trained with"
        + " (see " + epsilon.code() + "), then check again; what remains here is this layer's own.";
    return new Finding(f.code(), f.severity(), f.layerIndex(), f.layer(), message, evidence, fix);
  }

  /** The finding's evidence naming {@code cause}, with medium confidence. */
  private static List<Evidence> withCause(Finding f, String cause) {
    List<Evidence> evidence = new ArrayList<>();
    for (Evidence e : f.evidence()) {
      evidence.add(switch (e.name()) {
        case "likely_cause" -> new Evidence("likely_cause", cause);
        case "cause_confidence" -> new Evidence("cause_confidence", "medium");
        default -> e;
      });
    }
    return evidence;
  }

  private static boolean passed(LayerResult r) {
    return r.checks().stream().anyMatch(o -> o.code().equals("BN003") && o.status() == CheckOutcome.Status.PASSED);
  }

  private static Finding renamed(Finding f, int layersBefore) {
    List<Evidence> evidence = withCause(f, CAUSE);
    evidence.add(new Evidence("alternative_cause", "upstream_weights_changed"));
    evidence.add(new Evidence("layers_before_matching", layersBefore));
    String message = f.message() + String.format(java.util.Locale.ROOT, "; but the %d BN %s before it %s the data,"
        + " so what reaches this layer is what training fed it: this layer's own statistics most likely changed since"
        + " they were computed (another checkpoint's, a conversion, an edit), or the weights just before it changed"
        + " after them", layersBefore, layersBefore == 1 ? "layer" : "layers", layersBefore == 1 ? "matches" : "match");
    return new Finding(f.code(), f.severity(), f.layerIndex(), f.layer(), message, evidence, FIX);
  }
}
