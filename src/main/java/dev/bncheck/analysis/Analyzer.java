package dev.bncheck.analysis;

import dev.bncheck.engine.CalibrationData;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.engine.VectorSummary;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Runs every check on every layer and assembles the report. */
public final class Analyzer {

  /** Why data checks did not run on a layer. */
  public enum DataAvailability {
    /** {@code inspect}: static checks only. */
    NOT_REQUESTED,
    /** {@code check}: data checks run where a layer has calibration data. */
    REQUESTED,
    /**
     * {@code check --synthetic}: random data exercises the graph, but statistics measured on it
     * say little about the real data, so data-driven findings are information only.
     */
    SYNTHETIC
  }

  private final List<Check> checks;
  private final List<ModelCheck> modelChecks = Checks.MODEL;
  private final Thresholds thresholds;
  private final List<Suppression> suppressions;

  public Analyzer(List<Check> checks, Thresholds thresholds) {
    this(checks, thresholds, List.of());
  }

  public Analyzer(List<Check> checks, Thresholds thresholds, List<Suppression> suppressions) {
    this.checks = List.copyOf(checks);
    this.thresholds = thresholds;
    this.suppressions = List.copyOf(suppressions);
  }

  /**
   * Whether the training view could change this layer's verdict: its moving statistics are
   * beyond the BN003 warning thresholds on this calibration (the inference view), and no finding
   * that takes BN003's place (statistics never updated, or invalid) fires on it. When no layer
   * qualifies, the training view has nothing to add: it differs from the inference view only
   * where upstream layers normalize differently, and every layer whose statistics do not match
   * its inputs already has its explanation.
   */
  public boolean trainingViewMatters(BnLayer layer, LayerCalibration calibration) {
    DivergenceMetrics metrics = DivergenceMetrics.of(layer, calibration);
    if (!StaleStatistics.anyBeyondWarning(metrics, thresholds)) {
      return false;
    }
    Set<String> explainers = new StaleStatistics().supersededBy();
    // the explaining checks read the layer and its metrics; the model only picks a fix's wording
    LayerContext context = new LayerContext(new BnModel("", "", "tensorflow", null, List.of(layer)), 0, layer,
        Optional.of(calibration), Optional.of(metrics), thresholds);
    return checks.stream().filter(c -> explainers.contains(c.code())).noneMatch(c -> c.check(context).isPresent());
  }

  public Report analyze(
      BnModel model, CalibrationData calibrationOf, DataAvailability data, RunInfo run) {
    List<LayerResult> layers = new ArrayList<>();
    List<Finding> findings = new ArrayList<>();
    long tests = 0;
    for (int i = 0; i < model.layers().size(); i++) {
      if (calibrationOf.layer(i).isPresent()) {
        tests += LayerContext.testsOf(model.layers().get(i));
      }
    }
    int firstWithData = -1;
    for (int i = 0; i < model.layers().size() && firstWithData < 0; i++) {
      firstWithData = calibrationOf.layer(i).isPresent() ? i : -1;
    }
    // whether every layer so far leaves the next one's inputs as in training (UpstreamShift), kept
    // as the loop goes: each layer's tails are measured once, not again for every layer after it
    boolean upstreamQuiet = true;
    for (int i = 0; i < model.layers().size(); i++) {
      BnLayer layer = model.layers().get(i);
      Optional<LayerCalibration> calibration = calibrationOf.layer(i);
      Optional<DivergenceMetrics> metrics = calibration.map(c -> DivergenceMetrics.of(layer, c));
      Optional<LayerCalibration> trainingCalibration = calibrationOf.trainingView(i);
      Optional<DivergenceMetrics> trainingView = trainingCalibration.map(c -> DivergenceMetrics.of(layer, c));
      // Nothing upstream of the first layer normalizes, so both views feed it the same input: its
      // statistics are judged on the inference view, which ran on every sample, not on the
      // training view's first few (64 values per channel of a Dense layer hid a stale average)
      boolean judgedOnTrainingView = i != firstWithData;
      LayerContext context = new LayerContext(model, i, layer, calibration, metrics,
          judgedOnTrainingView ? trainingView : Optional.empty(), thresholds,
          judgedOnTrainingView ? trainingCalibration : Optional.empty(),
          Math.max(tests, LayerContext.testsOf(layer)), upstreamQuiet);
      List<Finding> layerFindings = new ArrayList<>();
      List<CheckOutcome> outcomes = new ArrayList<>();
      runChecks(context, data, calibrationOf.notCaptured(i), layerFindings, outcomes);
      findings.addAll(layerFindings);
      upstreamQuiet = upstreamQuiet && UpstreamShift.leavesQuiet(calibration, layerFindings);
      layers.add(new LayerResult(
          i,
          layer,
          VectorSummary.of(layer.gamma()),
          VectorSummary.of(layer.beta()),
          VectorSummary.of(layer.movingMean()),
          VectorSummary.of(layer.movingVariance()),
          calibration.map(c -> new CalibrationSummary(
              c.batches().size(), c.samplesSeen(), c.samples(), c.valuesPerChannel(), c.firstShape(),
              c.population().totalNonFinite(),
              c.selfCheck())),
          metrics,
          trainingView,
          outcomes,
          Optional.empty()));
    }
    int modelIndex = model.layers().size() + model.unresolved().size();
    EarlyStopAgreement.weigh(findings);
    OwnStatisticsChanged.name(findings, layers);
    RareRows.weighModeDisagreement(findings);
    ModelContext modelContext = new ModelContext(model, calibrationOf, layers.stream().map(LayerResult::metrics)
        .toList(), findings, run, thresholds, data, modelIndex, tests);
    for (ModelCheck check : modelChecks) {
      List<Finding> found = check.check(modelContext);
      Set<String> explained = found.isEmpty() ? Set.of() : check.declaration().explains();
      // a cause explains findings up to its own severity: a warning (the data may differ) does not
      // turn another layer's error into information
      Severity causeSeverity = found.stream().map(Finding::severity).max(Comparator.naturalOrder())
          .orElse(Severity.INFO);
      findings.replaceAll(f -> explained.contains(f.code()) && f.severity().compareTo(causeSeverity) <= 0
          ? consequence(f, check.declaration()) : f);
      findings.addAll(found);
    }
    UpstreamShift.weigh(findings);
    var checks = calibrationOf.batchSizeChecks();
    if (!checks.isEmpty() && checks.stream().allMatch(c -> c.consistent())) {
      double worst = checks.stream().mapToDouble(c -> c.relativeDifference()).max().orElse(0);
      findings.replaceAll(f -> f.code().equals("BN002") ? TrainingModeInGraph.measuredConsistent(f, worst) : f);
    }
    findings.replaceAll(f -> suppressions.stream().filter(s -> s.matches(f)).findFirst()
        .map(s -> f.suppress(Finding.By.IGNORE, s.reason())).orElse(f));
    findings.sort(Comparator.comparingInt(Finding::layerIndex).thenComparing(Finding::code));
    // one pass over the findings: a model of 100,000 layers has as many findings
    Map<Integer, Severity> worstOf = new HashMap<>();
    for (Finding f : findings) {
      worstOf.merge(f.layerIndex(), f.severity(), (a, b) -> a.compareTo(b) >= 0 ? a : b);
    }
    layers.replaceAll(r -> new LayerResult(r.index(), r.layer(), r.gamma(), r.beta(), r.movingMean(),
        r.movingVariance(), r.calibration(), r.metrics(), r.trainingViewMetrics(), r.checks(),
        Optional.ofNullable(worstOf.get(r.index()))));
    return new Report(run, model, thresholds, layers, calibrationOf.batchSizeChecks(), findings);
  }

  /** A layer's finding that a model-level finding explains: kept, as information, saying so. */
  private static Finding consequence(Finding f, CheckDeclaration cause) {
    return new Finding(f.code(), Severity.INFO, f.layerIndex(), f.layer(),
        f.message() + " (a consequence of " + cause.code() + ": " + cause.title() + ")", f.evidence(), f.fix());
  }

  private static Finding indicative(Finding f) {
    return new Finding(f.code(), Severity.INFO, f.layerIndex(), f.layer(),
        f.message() + " (on synthetic data: indicative only; run with real data to confirm)", f.evidence(), f.fix());
  }

  /** How the reason begins when a check is skipped for too few samples; the report looks for it. */
  static final String TOO_LITTLE_DATA = "too little calibration data: ";

  /** Why a check cannot run on this layer's data, or empty when it can. */
  private static Optional<String> cannotRun(Check check, LayerContext context, DataAvailability data,
      Optional<String> notCaptured) {
    if (context.calibration().isEmpty()) {
      return !check.needsCalibration() ? Optional.empty()
          : Optional.of(data == DataAvailability.NOT_REQUESTED ? "inspect runs the checks that need no data"
              : "no calibration data for this layer" + notCaptured.map(r -> " (" + r + ")").orElse(""));
    }
    LayerCalibration calibration = context.calibration().get();
    long samples = calibration.samples();
    if (check.estimatesStatistics() && samples < SamplingError.MIN_SAMPLES) {
      return Optional.of(TOO_LITTLE_DATA + samples + (samples == 1 ? " sample" : " samples")
          + (calibration.samplesSeen() > samples ? " (distinct among " + calibration.samplesSeen() + ")" : "")
          + ", fewer than the " + SamplingError.MIN_SAMPLES + " a mean or a variance needs to be judged");
    }
    if (check.comparesTrainingMode() && calibration.largestBatchSamples() < 2) {
      return Optional.of("batches of one sample: training mode normalizes a sample with its own statistics, which"
          + " training, on batches, never did (--batch-size)");
    }
    return Optional.empty();
  }

  /** @param notCaptured why the run could not capture the layer's data, if it could not */
  private void runChecks(LayerContext context, DataAvailability data, Optional<String> notCaptured,
      List<Finding> findings, List<CheckOutcome> outcomes) {
    Set<String> fired = new HashSet<>();
    List<Finding> candidates = new ArrayList<>();
    Map<String, String> skipped = new HashMap<>();
    for (Check check : checks) {
      Optional<String> cannotRun = cannotRun(check, context, data, notCaptured);
      if (cannotRun.isPresent()) {
        skipped.put(check.code(), cannotRun.get());
        continue;
      }
      check.check(context).ifPresent(f -> {
        Finding finding = data == DataAvailability.SYNTHETIC && check.needsCalibration() ? indicative(f) : f;
        candidates.add(finding);
        fired.add(finding.code());
      });
    }
    for (Check check : checks) {
      if (skipped.containsKey(check.code())) {
        outcomes.add(new CheckOutcome(check.code(), CheckOutcome.Status.SKIPPED, skipped.get(check.code())));
        continue;
      }
      Optional<String> explainedBy = check.supersededBy().stream().filter(fired::contains).sorted().findFirst();
      if (explainedBy.isPresent()) {
        outcomes.add(new CheckOutcome(check.code(), CheckOutcome.Status.SKIPPED,
            "explained by " + explainedBy.get() + " on this layer"));
        continue;
      }
      Optional<Finding> finding = candidates.stream().filter(f -> f.code().equals(check.code())).findFirst();
      outcomes.add(new CheckOutcome(check.code(),
          finding.isPresent() ? CheckOutcome.Status.FIRED : CheckOutcome.Status.PASSED, ""));
      finding.ifPresent(findings::add);
    }
  }
}
