package dev.bncheck.repair;

import dev.bncheck.analysis.Glob;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.InvalidOptionException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.load.ModelSession;
import dev.bncheck.load.Predictions;
import dev.bncheck.model.Tensor;
import dev.bncheck.report.RecalibrationReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Recalibrates a model through its session, guarded: refuses too little data and data unlike the
 * training data before any work, recalibrates in network order, writes the fixed model to a
 * temporary place, verifies it on the held-out samples (divergence, batch-size consistency,
 * accuracy or predicted classes) and moves it into place only when no guard refuses it or
 * {@code force} is set. The report says what happened.
 */
public final class ModelRecalibration {

  /**
   * @param layers the layers to recalibrate
   * @param heldOut the fraction of the samples held out to verify the result
   * @param batchSize samples run at once
   */
  public record Settings(Path model, Path out, boolean force, boolean toInferenceMode, Glob layers, double heldOut,
      int batchSize, LoadOptions options) {}

  private final ModelLoader loader;
  private final Settings settings;

  private ModelRecalibration(ModelLoader loader, Settings settings) {
    this.loader = loader;
    this.settings = settings;
  }

  /**
   * @param split the calibration data and the samples held out to verify the result
   * @param heldOutLabels the held-out samples' class labels, or null
   * @throws InvalidOptionException when {@code layers} matches no BN layer
   */
  public static RecalibrationReport run(ModelLoader loader, Settings settings, DataSplit split, int[] heldOutLabels) {
    return new ModelRecalibration(loader, settings).run(split, heldOutLabels);
  }

  private RecalibrationReport run(DataSplit split, int[] heldOutLabels) {
    List<Recalibration.LayerChange> changes;
    List<Verification.LayerMetrics> before;
    double[] accuracyBefore = null;
    Verified verified;
    Predictions predictedBefore;
    List<String> refusals = new ArrayList<>();
    try (ModelSession session = loader.open(settings.model(), settings.options())) {
      long channels = session.model().layers().stream().filter(l -> settings.layers().matches(l.name()))
          .mapToLong(l -> l.channels()).sum();
      RecalibrationGuard.tooLittleData(split.calibrationSamples(),
          RecalibrationGuard.distinctSamples(split.calibration()), channels).ifPresent(refusals::add);
      if (!refusals.isEmpty() && !settings.force()) {
        return refusedEarly(split, refusals);
      }
      CalibrationAccumulator heldOutData = Verification.capture(session, split.heldOut(), settings.batchSize());
      RecalibrationGuard.unlikeTrainingData(session.model(), heldOutData).ifPresent(refusals::add);
      if (!refusals.isEmpty() && !settings.force()) {
        return refusedEarly(split, refusals);
      }
      before = Verification.metrics(session.model().layers(), heldOutData);
      if (heldOutLabels != null) {
        accuracyBefore = accuracy(session, split.heldOut(), heldOutLabels);
      }
      predictedBefore = heldOutLabels == null && settings.heldOut() > 0 ? classes(session, split.heldOut()) : null;
      changes = Recalibration.run(session, split.calibration(), settings.layers()::matches, settings.batchSize(),
          settings.toInferenceMode());
      if (changes.isEmpty()) {
        throw new InvalidOptionException("--layers " + settings.layers().glob(), "matches no BN layer");
      }
      // a layer switched to inference mode (BN002) never normalized with its old statistics: how close
      // those were to the data says nothing about the fix, which the accuracy guards still measure
      Set<String> restatedOnly = changes.stream().filter(c -> !c.toInferenceMode())
          .map(Recalibration.LayerChange::name).collect(Collectors.toSet());
      Verified[] written = new Verified[1];
      double[] accuracyOld = accuracyBefore;
      try {
        // verified before it is renamed into place, so that a refused result leaves nothing behind
        Consumer<Path> writeAndVerify = target -> {
          session.saveTo(target);
          written[0] = verify(target, split, heldOutLabels);
          if (settings.heldOut() > 0 && !restatedOnly.isEmpty()) {
            RecalibrationGuard.noCloser(before, written[0].metrics(), restatedOnly, split.heldOutSamples())
                .ifPresent(refusals::add);
          }
          if (heldOutLabels != null) {
            RecalibrationGuard.lessAccurate(accuracyOld[0], written[0].accuracy()[0], heldOutLabels.length)
                .ifPresent(refusals::add);
          }
          if (predictedBefore != null && written[0].predictions() != null) {
            RecalibrationGuard.oneClass(predictedBefore, written[0].predictions()).ifPresent(refusals::add);
          }
          if (!refusals.isEmpty() && !settings.force()) {
            throw new Refused();
          }
        };
        // the fixed model is of the input's kind: a directory (a SavedModel) or one file (ONNX)
        if (Files.isDirectory(settings.model())) {
          OutputDirectory.write(settings.out(), settings.force(), writeAndVerify);
        } else {
          OutputFile.write(settings.out(), settings.force(), writeAndVerify);
        }
      } catch (Refused e) {
        return report(split, changes, before, written[0], accuracyBefore, predictedBefore, refusals, false);
      }
      verified = written[0];
    }
    return report(split, changes, before, verified, accuracyBefore, predictedBefore, refusals, true);
  }

  private RecalibrationReport report(DataSplit split, List<Recalibration.LayerChange> changes,
      List<Verification.LayerMetrics> before, Verified after, double[] accuracyBefore, Predictions predictedBefore,
      List<String> refusals, boolean written) {
    List<RecalibrationReport.Row> rows = new ArrayList<>();
    for (int i = 0; i < before.size(); i++) {
      String name = before.get(i).name();
      long values = changes.stream().filter(c -> c.name().equals(name)).mapToLong(Recalibration.LayerChange::values)
          .findFirst().orElse(0);
      rows.add(new RecalibrationReport.Row(name, values, before.get(i).metrics(), after.metrics().get(i).metrics()));
    }
    List<RecalibrationReport.Consistency> consistency = after.consistency().batchSizeChecks().stream()
        .map(c -> new RecalibrationReport.Consistency(c.output(), c.samplesCompared(), c.batchSize(),
            c.maxAbsDifference(), c.consistent()))
        .toList();
    Optional<RecalibrationReport.Accuracy> accuracy = accuracyBefore == null ? Optional.empty()
        : Optional.of(new RecalibrationReport.Accuracy(accuracyBefore[0], after.accuracy()[0], accuracyBefore[1],
            after.accuracy()[1]));
    Optional<RecalibrationReport.PredictedClasses> predicted = predictedBefore == null || after.predictions() == null
        || after.predictions().outputs() < 2 ? Optional.empty()
        : Optional.of(new RecalibrationReport.PredictedClasses(predictedBefore.distinct(),
            after.predictions().distinct(), after.predictions().outputs()));
    List<String> switched = changes.stream().filter(Recalibration.LayerChange::toInferenceMode)
        .map(Recalibration.LayerChange::name).toList();
    return new RecalibrationReport(settings.model().toString(), false, split.calibrationSamples(),
        settings.heldOut() == 0 ? 0 : split.heldOutSamples(), rows, consistency, accuracy, predicted, refusals, written,
        settings.out().toString(), switched);
  }

  private RecalibrationReport refusedEarly(DataSplit split, List<String> refusals) {
    return new RecalibrationReport(settings.model().toString(), false, split.calibrationSamples(),
        settings.heldOut() == 0 ? 0 : split.heldOutSamples(), List.of(), List.of(), Optional.empty(), Optional.empty(),
        refusals, false, settings.out().toString(), List.of());
  }

  /** The fixed model measured on the held-out samples. */
  private record Verified(List<Verification.LayerMetrics> metrics, CalibrationAccumulator consistency,
      double[] accuracy, Predictions predictions) {}

  /** Thrown out of the directory writer so that a refused result is never renamed into place. */
  private static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    Refused() {
      super(null, null, false, false);
    }
  }

  private Verified verify(Path written, DataSplit split,
      int[] heldOutLabels) {
    try (ModelSession fixed = loader.open(written, settings.options())) {
      List<Verification.LayerMetrics> after = Verification.measure(fixed, split.heldOut(), settings.batchSize());
      CalibrationAccumulator consistency = new CalibrationAccumulator();
      fixed.batchSizeConsistency(split.heldOut(), settings.batchSize(), consistency);
      double[] accuracy = heldOutLabels == null ? null : accuracy(fixed, split.heldOut(), heldOutLabels);
      return new Verified(after, consistency, accuracy,
          heldOutLabels == null && settings.heldOut() > 0 ? classes(fixed, split.heldOut()) : null);
    }
  }

  /**
   * The held-out predictions at batch size 64, or null for a model with no float output to
   * predict from (no classifier: the one-class guard does not apply).
   */
  private static Predictions classes(ModelSession session, Map<String, Tensor> data) {
    try {
      return session.predictions(data, 64);
    } catch (InvalidInputException e) {
      return null;
    }
  }

  /** Accuracy at batch size 64 and at batch size 1. */
  private static double[] accuracy(ModelSession session, Map<String, Tensor> data, int[] labels) {
    double[] out = new double[2];
    int[] sizes = {64, 1};
    for (int k = 0; k < 2; k++) {
      out[k] = session.predictions(data, sizes[k]).accuracy(labels);
    }
    return out;
  }
}
