package dev.bncheck.analysis;

import dev.bncheck.analysis.CheckDeclaration.DataNeed;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Numbers;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * BN012: the moving statistics moved only a little from their initial 0/1, visible without data.
 * An average that started at 0/1 and received few updates holds means near 0 and, in every
 * channel, a variance of 1 - w + w * v: a narrow band just under 1 when the data's variances v are
 * below 1. A trained layer's statistics describe its data, whose variances rarely share one narrow
 * band just under 1; so when gamma and beta have moved away from 1/0 (the layer was trained) and
 * the statistics sit in that band, the averages most likely stopped early. Data decides (BN003),
 * so this is a warning and gives way to BN003 when there is data.
 *
 * <p>One healthy layer looks the same: a layer whose input is standardized (variance 1 in every
 * channel, as a first BN on scaled features sees it) averages batch variances of divisor n, which
 * are (B-1)/B of the data's for B values per channel per batch. When the band holds (B-1)/B for a
 * usual batch size B, the statistics fit both stories, and the finding is information that says so.
 */
@Declares(code = "BN012",
    title = "statistics barely moved from their initial values",
    data = DataNeed.NONE,
    supersededBy = {"BN001", "BN003", "BN007"})
public final class BarelyMovedStatistics implements Check {

  /** Fewer channels make a "band" out of chance. */
  static final int MIN_CHANNELS = 8;

  /** The band lies at most this far below 1: an average at least half-way is not "barely moved". */
  static final double MAX_DEPTH = 0.5;

  /** The band's width relative to its distance from 1: narrow means the variances barely differ. */
  static final double MAX_RELATIVE_WIDTH = 0.5;

  /** gamma or beta this far from 1/0 shows that training ran. */
  static final double MOVED = 1e-3;

  /** The batch sizes people train with, whose (B-1)/B a standardized input's variances average to: powers of two. */
  static final int LARGEST_USUAL_BATCH = 1024;

  /**
   * More of the initial 0/1 than this left in the statistics is reported: 5% of a mean 5 standard
   * deviations from 0 is BN003's warning threshold of 0.25.
   */
  static final double MAX_INITIAL_WEIGHT = 0.05;

  @Override
  public Optional<Finding> check(LayerContext context) {
    BnLayer layer = context.layer();
    int channels = layer.channels();
    // with data, BN003 judges the statistics against it; the band and the count only foretell it
    if (context.calibration().isPresent()) {
      return Optional.empty();
    }
    Optional<Finding> counted = fromCount(context);
    if (counted.isPresent() || channels < MIN_CHANNELS || !trained(layer)) {
      return counted;
    }
    double low = Double.POSITIVE_INFINITY;
    double high = Double.NEGATIVE_INFINITY;
    double largestMean = 0;
    for (int c = 0; c < channels; c++) {
      double v = layer.movingVariance()[c];
      if (!Double.isFinite(v) || !Double.isFinite(layer.movingMean()[c])) {
        return Optional.empty();
      }
      low = Math.min(low, v);
      high = Math.max(high, v);
      largestMean = Math.max(largestMean, Math.abs(layer.movingMean()[c]));
    }
    double depth = 1 - low;
    // the fraction an average from 1 must have moved, at least, to reach the lowest variance
    if (!(high < 1 && depth <= MAX_DEPTH && high - low <= MAX_RELATIVE_WIDTH * depth && largestMean <= depth)) {
      return Optional.empty();
    }
    List<Evidence> evidence = new ArrayList<>();
    evidence.add(new Evidence("moving_variance_min", low));
    evidence.add(new Evidence("moving_variance_max", high));
    evidence.add(new Evidence("largest_abs_moving_mean", largestMean));
    evidence.add(new Evidence("fraction_moved_at_least", depth));
    String updates = "";
    if (layer.momentum().isPresent()) {
      double decay = layer.momentumConvention().decay(layer.momentum().getAsDouble());
      if (decay > 0 && decay < 1) {
        long estimate = Math.round(Math.log(low) / Math.log(decay));
        evidence.add(new Evidence("estimated_updates", estimate));
        updates = String.format(Locale.ROOT, ", about %d updates at momentum %s (%s convention)", estimate,
            Numbers.brief(layer.momentum().getAsDouble()), layer.momentumConvention().jsonName());
      }
    }
    if (layer.numBatchesTracked().isPresent()) {
      evidence.add(new Evidence("num_batches_tracked", layer.numBatchesTracked().getAsLong()));
    }
    int batch = standardizedBatch(low, high);
    String alternative = "";
    if (batch > 0) {
      evidence.add(new Evidence("also_fits_standardized_input_batch", batch));
      alternative = String.format(Locale.ROOT, "; they fit a healthy layer as well: standardized inputs (variance 1)"
          + " averaged over batches of %d values per channel, whose batch variance is %s of the data's", batch,
          Numbers.brief((batch - 1.0) / batch));
    }
    String message = String.format(Locale.ROOT,
        "moving statistics barely moved from their initial values: every channel's moving variance lies in"
            + " %s..%s, just under the initial 1, and every moving mean within %s of 0, while gamma and beta were"
            + " trained; this is an average that moved about %s%% of the way from 0/1%s%s. Run check with data to"
            + " confirm (BN003)",
        Numbers.brief(low), Numbers.brief(high), Numbers.brief(largestMean), Numbers.format(100 * depth, 1), updates,
        alternative);
    return Optional.of(new Finding(code(), batch > 0 ? Severity.INFO : Severity.WARNING, context.index(), layer.name(),
        message, evidence,
        context.framework().pick(StaleStatistics.FIX_EARLY_STOP_TENSORFLOW, StaleStatistics.FIX_EARLY_STOP_PYTORCH)));
  }

  /**
   * The finding from the framework's own count of updates (PyTorch's {@code num_batches_tracked}):
   * after n updates at decay d an average that started at 0/1 holds d^n of its initial values,
   * whatever the data, so a count too small for the momentum tells without data or band.
   */
  private Optional<Finding> fromCount(LayerContext context) {
    BnLayer layer = context.layer();
    OptionalDouble weight = initialWeight(layer);
    if (weight.isEmpty() || weight.getAsDouble() <= MAX_INITIAL_WEIGHT) {
      return Optional.empty();
    }
    long updates = layer.numBatchesTracked().getAsLong();
    double momentum = layer.momentum().getAsDouble();
    double initialWeight = weight.getAsDouble();
    List<Evidence> evidence = new ArrayList<>();
    evidence.add(new Evidence("num_batches_tracked", updates));
    evidence.add(new Evidence("momentum", momentum));
    evidence.add(new Evidence("fraction_moved", 1 - initialWeight));
    // information, not a warning: fine-tuning from weights saved without the counter (as
    // published weights often are) restarts it at 0 over statistics that already converged, the
    // most common way a small count arises; only data tells the two apart
    String message = String.format(Locale.ROOT,
        "num_batches_tracked records only %d updates: if training started from 0/1 statistics, an average at"
            + " momentum %s (%s convention) has moved %s%% of the way to the data, and its initial values still make"
            + " up %s%% of the moving statistics; fine-tuning from weights saved without the counter restarts it at"
            + " 0, so the count alone does not tell. Run check with data to see how far they are from the data's"
            + " (BN003)",
        updates, Numbers.brief(momentum), layer.momentumConvention().jsonName(),
        Numbers.format(100 * (1 - initialWeight), 2), Numbers.format(100 * initialWeight, 2));
    return Optional.of(new Finding(code(), Severity.INFO, context.index(), layer.name(), message, evidence,
        context.framework().pick(StaleStatistics.FIX_EARLY_STOP_TENSORFLOW, StaleStatistics.FIX_EARLY_STOP_PYTORCH)));
  }

  /**
   * The share of its initial 0/1 an average that started there still holds after the updates the
   * framework counted (PyTorch's {@code num_batches_tracked}): d^n after n updates at decay d. Empty
   * without a count and a momentum, for no update (BN001's case when the statistics are 0/1), and
   * for an average that does not decay.
   */
  static OptionalDouble initialWeight(BnLayer layer) {
    if (layer.numBatchesTracked().isEmpty() || layer.momentum().isEmpty()) {
      return OptionalDouble.empty();
    }
    long updates = layer.numBatchesTracked().getAsLong();
    double decay = layer.momentumConvention().decay(layer.momentum().getAsDouble());
    if (updates == 0 || !(decay > 0 && decay < 1)) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of(Math.pow(decay, (double) updates));
  }

  /** The usual batch size B whose (B-1)/B lies in the band, or 0. */
  private static int standardizedBatch(double low, double high) {
    for (int b = 2; b <= LARGEST_USUAL_BATCH; b *= 2) {
      double biased = (b - 1.0) / b;
      if (biased >= low && biased <= high) {
        return b;
      }
    }
    return 0;
  }

  private static boolean trained(BnLayer layer) {
    for (int c = 0; c < layer.channels(); c++) {
      if (Math.abs(layer.gamma()[c] - 1) > MOVED || Math.abs(layer.beta()[c]) > MOVED) {
        return true;
      }
    }
    return false;
  }
}
