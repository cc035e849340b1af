package dev.bncheck.report;

import dev.bncheck.engine.DivergenceMetrics;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a recalibration did: each layer's divergence on the held-out samples before and after, the
 * fixed model's batch-size consistency and accuracy, and whether it was written or refused and why.
 *
 * @param model the model or dump recalibrated
 * @param dump true for a dump, whose layers are recalibrated on the activations each holds
 * @param calibrationSamples the samples the new statistics come from (a model; 0 for a dump)
 * @param heldOutSamples the samples held out to verify them; 0 when verified on the same samples
 * @param rows every BN layer, recalibrated or kept, in network order
 * @param refusals why the result was refused; with {@code written}, what {@code --force} overrode
 * @param written whether the fixed model was written to {@code out}
 * @param switchedToInferenceMode layers that normalized with batch statistics and now use the new ones
 */
public record RecalibrationReport(
    String model,
    boolean dump,
    long calibrationSamples,
    long heldOutSamples,
    List<Row> rows,
    List<Consistency> consistency,
    Optional<Accuracy> accuracy,
    Optional<PredictedClasses> predictions,
    List<String> refusals,
    boolean written,
    String out,
    List<String> switchedToInferenceMode) {

  public RecalibrationReport {
    Objects.requireNonNull(model, "model");
    rows = List.copyOf(rows);
    consistency = List.copyOf(consistency);
    refusals = List.copyOf(refusals);
    switchedToInferenceMode = List.copyOf(switchedToInferenceMode);
  }

  /** One layer: the values its new statistics come from (0: kept), its divergence before and after. */
  public record Row(String layer, long values, Optional<DivergenceMetrics> before, Optional<DivergenceMetrics> after) {}

  /** An output of the fixed model run alone and in a batch (BN005). */
  public record Consistency(String output, int samplesCompared, int batchSize, double maxAbsDifference,
      boolean consistent) {}

  /** Held-out accuracy before and after, at batch size 64 and 1. */
  public record Accuracy(double before64, double after64, double before1, double after1) {}

  /** How many of a classifier's classes the held-out predictions spread over, when no labels were given. */
  public record PredictedClasses(long before, long after, int classes) {}

  public long recalibrated() {
    return rows.stream().filter(r -> r.values() > 0).count();
  }

  /** written, refused, or written although refused (--force). */
  public String outcome() {
    return !written ? "refused" : refusals.isEmpty() ? "written" : "written_forced";
  }
}
