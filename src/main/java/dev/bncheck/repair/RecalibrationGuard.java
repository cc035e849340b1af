package dev.bncheck.repair;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.CalibrationDataMismatch;
import dev.bncheck.analysis.Checks;
import dev.bncheck.analysis.Evidence;
import dev.bncheck.analysis.FailOn;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.RunInfo;
import dev.bncheck.analysis.SamplingError;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.engine.CalibrationData;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.load.array.DistinctSamples;
import dev.bncheck.load.array.InputArray;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.Numbers;
import dev.bncheck.model.Tensor;
import dev.bncheck.model.UnresolvedLayer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * When recalibrating would make a model worse or no better, and so is refused unless forced:
 * statistics computed from too few distinct samples (they carry the sample's chance into the
 * model), calibration data prepared unlike the training data (BN011: its statistics would carry
 * the wrong preprocessing into the model), old statistics that already describe held-out data
 * within chance, and new statistics no closer to it than the old ones. The same sampling policy
 * as check's decides how few is too few.
 */
public final class RecalibrationGuard {

  private RecalibrationGuard() {}

  /** Samples whose values differ in at least one input (see {@link DistinctSamples}). */
  public static long distinctSamples(Map<String, Tensor> data) {
    return DistinctSamples.count(InputArray.numbers(data));
  }

  /**
   * Why the data cannot set the statistics of {@code channels} channels, or empty when it can: the
   * new statistics must be within BN003's error threshold of the population by chance, at the
   * family-wise rate check uses.
   */
  public static Optional<String> tooLittleData(long samples, long distinct, long channels) {
    long needed = SamplingError.of(Math.max(2, distinct), 2 * channels)
        .samplesToJudge(Thresholds.DEFAULTS.meanShiftError());
    if (distinct >= needed) {
      return Optional.empty();
    }
    return Optional.of(samples + " calibration samples" + (distinct < samples ? ", of which " + distinct + " distinct," : "")
        + " cannot set the statistics of " + channels + " channels: chance alone would move them by more than"
        + " check's error threshold; about " + needed + " distinct samples are needed");
  }

  /**
   * Why the data must not set the statistics because it does not look like the training data, or
   * empty: check's own analysis of the data with the model's old statistics reports BN011. BN011
   * fires only where the first layer's difference is no early stop and its statistics were updated
   * (BN001 takes BN003's place), so never-updated and stale statistics are not refused. A modest
   * factor alike in every channel, or one that lagging statistics also explain, is refused as
   * well: data scaled by 2, or offset, gave a healthy model statistics that dropped its accuracy on
   * correctly prepared data from 99% to 24%, and nothing but the user knows that the data really
   * comes from a new domain (or is the training data, where the statistics lag): --force says so.
   */
  public static Optional<String> unlikeTrainingData(BnModel model, CalibrationData data) {
    // the report is read for its findings and never written: the run's description is not needed
    RunInfo run = new RunInfo("", "recalibrate", "", "", null, FailOn.ERROR);
    Report report = new Analyzer(Checks.ALL, Thresholds.DEFAULTS).analyze(model, data,
        Analyzer.DataAvailability.REQUESTED, run);
    return report.findings().stream()
        .filter(f -> f.code().equals(CalibrationDataMismatch.CODE))
        .findFirst()
        .map(f -> "[" + f.code() + "] " + f.message() + " (see docs/findings.md#bn011). Statistics computed on this"
            + " data would carry its preparation into the model: fix the preprocessing first, then recalibrate;"
            + (mayBeANewDomain(f) ? " if the data really comes from a new domain (fine-tuning data for frozen BN"
                + " layers), or is the training data and the statistics lag the weights, --force writes them"
                : " if the data really comes from a new domain, recompute the statistics on it with --force"));
  }

  /** A modest factor, which a new domain and lagging statistics give as well as preprocessing. */
  private static boolean mayBeANewDomain(dev.bncheck.analysis.Finding mismatch) {
    return mismatch.evidence().contains(new Evidence("likely_cause", CalibrationDataMismatch.PREPROCESSING_DOMAIN_OR_LAGGING))
        || mismatch.evidence().contains(new Evidence("likely_cause", CalibrationDataMismatch.SCALING_PREPROCESSING_OR_DOMAIN));
  }

  /**
   * Every reason to refuse a dump's recalibration: the policy of the model route on each layer's
   * own samples. A dump's layers may hold different numbers of samples, so the layer with the
   * fewest distinct calibration samples decides whether there are enough (with every recalibrated
   * channel counted, as for a model), and the fewest held-out samples set the chance the old
   * statistics are judged against (fewer samples: more chance, so rather refused than rewritten).
   *
   * @param compare whether samples are held out; without them the old and new statistics are not compared
   */
  public static List<String> ofDump(BnModel model, DumpSplit split, DumpRecalibration.Result result,
      boolean compare) {
    List<String> reasons = new ArrayList<>();
    Set<String> recalibrated = new HashSet<>();
    long channels = 0;
    String fewest = null;
    DumpSplit.Samples least = null;
    int heldOut = Integer.MAX_VALUE;
    for (int i : result.statistics().keySet()) {
      BnLayer layer = model.layers().get(i);
      DumpSplit.Samples samples = split.layers().get(i);
      recalibrated.add(layer.name());
      channels += layer.channels();
      heldOut = Math.min(heldOut, samples.heldOut());
      if (least == null || samples.distinctCalibration() < least.distinctCalibration()) {
        least = samples;
        fewest = layer.name();
      }
    }
    if (least == null) {
      return reasons;
    }
    String layer = fewest;
    tooLittleData(least.calibration(), least.distinctCalibration(), channels)
        .map(r -> (recalibrated.size() > 1 ? "layer " + layer + ": " : "") + r).ifPresent(reasons::add);
    unlikeTrainingData(model, split.heldOut()).ifPresent(reasons::add);
    keepsNoRunningStatistics(model).ifPresent(reasons::add);
    if (compare) {
      List<Verification.LayerMetrics> before = new ArrayList<>();
      List<Verification.LayerMetrics> after = new ArrayList<>();
      for (DumpRecalibration.LayerResult r : result.layers()) {
        before.add(new Verification.LayerMetrics(r.name(), r.before()));
        after.add(new Verification.LayerMetrics(r.name(), r.after()));
      }
      noCloser(before, after, recalibrated, heldOut).ifPresent(reasons::add);
    }
    return reasons;
  }

  /**
   * Why the dump stays broken whatever its statistics: layers that keep no running statistics
   * (BN002) normalize with each batch's own, and a new dump with the others recalibrated would
   * still fail check. Without this, a dump whose other layers were healthy was refused with "there
   * is nothing to fix" while its BN002 error stood.
   */
  static Optional<String> keepsNoRunningStatistics(BnModel model) {
    List<String> layers = model.unresolved().stream().filter(UnresolvedLayer::keepsNoRunningStatistics)
        .map(UnresolvedLayer::name).toList();
    if (layers.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of((layers.size() == 1 ? "layer " + layers.get(0) + " keeps" : "layers " + String.join(", ", layers)
        + " keep") + " no running statistics and normalize" + (layers.size() == 1 ? "s" : "") + " with each batch's"
        + " own (BN002): recalibrating cannot fix that, and the dump would still fail check (docs/findings.md#bn002)");
  }

  /** The standard normal quantile at 99%: the rate at which a healthy model's recalibration would be allowed. */
  private static final double Z_99 = 2.3263;

  /**
   * Why the new statistics are no improvement, or empty when they are. Distance is the sum over
   * the recalibrated layers' channels of the squared standardized mean shift and half the squared
   * log variance ratio, measured on the held-out samples: each term is about 1/n by chance alone
   * for statistics that describe the data (the mean of n samples moves by σ/√n, the log of a
   * variance estimate by √(2/n)), so n times the distance of right statistics is about chi-square
   * with two degrees of freedom per channel. Values within a sample are correlated, so n counts
   * samples, not values: chance is overestimated, never under. Recalibrating is refused when the
   * old statistics are within that chance of the held-out data (99th percentile, Wilson-Hilferty)
   * — new ones computed from a few hundred samples are no better than ones from a whole training
   * run — and when the new statistics are no closer than the old.
   */
  public static Optional<String> noCloser(List<Verification.LayerMetrics> before, List<Verification.LayerMetrics> after,
      Set<String> recalibrated, int heldOutSamples) {
    double old = distance(before, recalibrated);
    double fixed = distance(after, recalibrated);
    long channels = before.stream().filter(l -> recalibrated.contains(l.name()) && l.metrics().isPresent())
        .mapToLong(l -> l.metrics().get().varianceRatio().length).sum();
    double chance = chiSquareQuantile(2 * channels, Z_99) / Math.max(1, heldOutSamples);
    if (old <= chance) {
      return Optional.of("the model's statistics already describe the held-out samples within chance (distance "
          + Numbers.brief(old) + "; chance alone reaches " + Numbers.brief(chance) + " on " + heldOutSamples
          + " samples): recalibrating them fixes nothing");
    }
    if (fixed < old || (!Double.isFinite(old) && Double.isFinite(fixed))) {
      return Optional.empty();
    }
    return Optional.of("the new statistics are no closer to the held-out samples than the old ones (distance "
        + Numbers.brief(old) + " before, " + Numbers.brief(fixed) + " after): the model's statistics"
        + " already describe this data");
  }

  /** The chi-square quantile with {@code df} degrees of freedom at standard normal quantile z (Wilson-Hilferty). */
  static double chiSquareQuantile(long df, double z) {
    if (df <= 0) {
      return 0;
    }
    double a = 2.0 / (9.0 * df);
    double root = 1 - a + z * Math.sqrt(a);
    return df * root * root * root;
  }

  /** Held-out samples from which one predicted class for all of them says something about the data. */
  static final int ONE_CLASS_SAMPLES = 16;

  /**
   * Why the new statistics are refused when no labels can tell whether they help, or empty: the
   * recalibrated classifier predicts one class for every held-out sample. Either the calibration
   * data holds one class only (statistics computed from it describe that class, and a healthy
   * model fed them lost half its accuracy on the others) or the new statistics collapse the
   * model; without labels nothing tells the two apart, and neither should be written.
   */
  public static Optional<String> oneClass(dev.bncheck.load.Predictions before, dev.bncheck.load.Predictions after) {
    int[] classes = after.classes();
    if (after.outputs() < 2 || classes.length < ONE_CLASS_SAMPLES || after.distinct() != 1) {
      return Optional.empty();
    }
    return Optional.of("with the new statistics every one of the " + classes.length + " held-out samples is predicted"
        + " as class " + classes[0] + (before.distinct() > 1 ? ", where the old statistics predicted "
        + before.distinct() + " classes" : ", as with the old statistics") + ": the calibration data may hold one class"
        + " only (statistics computed from it make the model worse on the others), or the new statistics collapse"
        + " the model; without --labels bncheck cannot tell which: give --labels to measure the accuracy");
  }

  /**
   * Why the new statistics make the classifier worse on the held-out samples, or empty: accuracy
   * at batch size 64 lower after than before by more than one held-out sample.
   */
  public static Optional<String> lessAccurate(double before, double after, int heldOut) {
    if (after >= before - 1.0 / Math.max(1, heldOut) - 1e-9) {
      return Optional.empty();
    }
    return Optional.of("the held-out accuracy falls from " + Numbers.format(100 * before, 4) + "% to "
        + Numbers.format(100 * after, 4) + "% with the new statistics: the calibration data does not look like the"
        + " data the model serves (one class only, other preprocessing?)");
  }

  private static double distance(List<Verification.LayerMetrics> layers, Set<String> recalibrated) {
    double sum = 0;
    for (Verification.LayerMetrics layer : layers) {
      if (recalibrated.contains(layer.name()) && layer.metrics().isPresent()) {
        DivergenceMetrics m = layer.metrics().get();
        for (int c = 0; c < m.varianceRatio().length; c++) {
          double shift = m.standardizedMeanShift()[c];
          double logRatio = Math.log(m.varianceRatio()[c]);
          sum += shift * shift + logRatio * logRatio / 2;
        }
      }
    }
    return Double.isNaN(sum) ? Double.POSITIVE_INFINITY : sum;
  }
}
