package dev.bncheck.cli;

import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.load.ModelSession;
import dev.bncheck.load.Predictions;
import dev.bncheck.load.Loaders;
import dev.bncheck.analysis.Glob;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.load.array.NpyReader;
import dev.bncheck.load.dump.BnModelFromDump;
import dev.bncheck.load.dump.DumpStatisticsWriter;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.report.AtomicFile;
import dev.bncheck.report.RecalibrationReport;
import dev.bncheck.report.RecalibrationReportWriter;
import dev.bncheck.report.ReportFormat;
import dev.bncheck.repair.DumpRecalibration;
import dev.bncheck.model.Tensor;
import dev.bncheck.repair.DataSplit;
import dev.bncheck.repair.DumpSplit;
import dev.bncheck.repair.OutputDirectory;
import dev.bncheck.repair.OutputFile;
import dev.bncheck.repair.Recalibration;
import dev.bncheck.repair.RecalibrationGuard;
import dev.bncheck.repair.Verification;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Recomputes the BN moving statistics of a model on calibration data and writes a fixed copy. */
@Command(name = "recalibrate", sortOptions = false, mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Recompute every BN layer's moving mean and variance as the population statistics of the"
        + " calibration data that reaches it, layer by layer in network order, write a new model of the same kind"
        + " (a SavedModel, an ONNX file), and verify it on held-out data.")
final class RecalibrateCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "MODEL", description = "A TensorFlow SavedModel directory, an ONNX model (.onnx) or a bncheck JSON dump.")
  Path model;

  @Option(names = "--inputs", paramLabel = "[NAME=]FILE",
      description = "Calibration data: for a model, its inputs (.npy, .npz or a JSON tensor;"
          + " NAME=VALUE for a scalar such as is_training=false; repeatable; required); for a dump, a dump with \"inputs\" (default: the activations in MODEL).")
  List<String> inputs = new ArrayList<>();

  @Option(names = "--out", paramLabel = "PATH", required = true,
      description = "Where to write the fixed model (a SavedModel directory, an .onnx file, or a dump file),"
          + " atomically. An ONNX model's tensors kept in side files are written into the one new file.")
  Path out;

  @Option(names = "--force", description = "Replace --out if it exists, and write the new statistics even when"
      + " the data is too little to set them, does not look like the training data (BN011), the old ones already"
      + " describe the held-out samples within chance, or the new ones are no closer to them (otherwise refused"
      + " with exit code 1).")
  boolean force;

  @Option(names = "--to-inference-mode", description = "Switch BN layers that normalize with batch statistics"
      + " (BN002) to inference mode in the fixed model, so that they use the new statistics (ONNX models; otherwise"
      + " such a layer is refused).")
  boolean toInferenceMode;

  @Option(names = "--layers", paramLabel = "GLOB", defaultValue = "**",
      description = "Recalibrate only the layers whose name matches (default: all).")
  String layers;

  @Option(names = "--max-samples", paramLabel = "N", description = "Use at most N samples (default: all).")
  Integer maxSamples;

  @Option(names = "--held-out", paramLabel = "FRACTION", defaultValue = "0.2",
      description = "Fraction of the samples held out to verify the result (default: ${DEFAULT-VALUE}).")
  double heldOut;

  @Option(names = "--batch-size", paramLabel = "N", defaultValue = "32",
      description = "Samples run at once (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--labels", paramLabel = "FILE",
      description = "Class labels of the samples (.npy of integers), for a classifier: prints accuracy before and"
          + " after on the held-out samples, at batch size 64 and 1, and refuses a fall. Without them, new statistics"
          + " under which every held-out sample gets one class are refused.")
  Path labels;

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text", converter = RecalibrationFormat.class,
      completionCandidates = RecalibrationFormat.Candidates.class,
      description = "Report format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  ReportFormat format;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE",
      description = "Write the report to FILE (atomically) instead of standard output.")
  Path output;

  @Option(names = {"-v", "--verbose"}, description = "Show stack traces of errors.")
  boolean verbose;

  @Mixin ModelOptions modelOptions;

  @Spec CommandSpec spec;

  /** The loader for a model: the registered ones, or a test's. */
  Function<Path, ModelLoader> loaders = Loaders::forModel;

  @Override
  public Integer call() {
    ModelLoader loader = loaders.apply(model);
    boolean dump = loader instanceof BnModelFromDump;
    if (!dump && !loader.writesStatistics()) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "recalibrate takes a TensorFlow SavedModel directory, an ONNX model or a bncheck JSON dump"
              + loader.recalibrateInstead().map(instead -> "; " + instead).orElse(""));
    }
    List<Path> read = new ArrayList<>(inputFiles());
    read.addAll(loader.sideFiles(model));
    for (Path input : read) {
      var overlap = InputOverlap.between(out, input);
      if (overlap.isPresent()) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--out " + out + " " + overlap.get() + "; bncheck never overwrites its inputs");
      }
    }
    OutputFolder.require(spec, "--out", out);
    if (output != null) {
      OutputFolder.require(spec, "--output", output);
      for (Path input : read) {
        if (InputOverlap.between(output, input).isPresent()) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--output " + output + " names an input;"
              + " bncheck never overwrites its inputs");
        }
      }
    }
    if (Files.exists(out) && !force) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--out " + out + " exists; pass --force to replace it");
    }
    if (!(heldOut >= 0 && heldOut < 1) || batchSize < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--held-out must be in [0, 1) and --batch-size at least 1");
    }
    Glob matcher = Glob.of(layers);
    if (dump) {
      return recalibrateDump(loader, matcher);
    }
    if (inputs.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "a model needs --inputs with calibration data");
    }
    if (!Files.isDirectory(model) && Files.isDirectory(out)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--out " + out + " is a directory; the fixed model"
          + " is one file");
    }
    LoadOptions options = modelOptions.toLoadOptions();
    Map<String, Tensor> data = limit(ModelInputs.read(inputs));
    DataSplit split = DataSplit.of(data, heldOut);
    int[] heldOutLabels = labels == null ? null : heldOutLabels(split);
    List<Recalibration.LayerChange> changes;
    List<Verification.LayerMetrics> before;
    double[] accuracyBefore = null;
    Verified verified;
    Predictions predictedBefore;
    List<String> refusals = new ArrayList<>();
    try (ModelSession session = loader.open(model, options)) {
      long channels = session.model().layers().stream().filter(l -> matcher.matches(l.name()))
          .mapToLong(l -> l.channels()).sum();
      RecalibrationGuard.tooLittleData(split.calibrationSamples(),
          RecalibrationGuard.distinctSamples(split.calibration()), channels).ifPresent(refusals::add);
      if (!refusals.isEmpty() && !force) {
        return refuse(refusedEarly(split, refusals));
      }
      CalibrationAccumulator heldOutData = Verification.capture(session, split.heldOut(), batchSize);
      RecalibrationGuard.unlikeTrainingData(session.model(), heldOutData).ifPresent(refusals::add);
      if (!refusals.isEmpty() && !force) {
        return refuse(refusedEarly(split, refusals));
      }
      before = Verification.metrics(session.model().layers(), heldOutData);
      if (heldOutLabels != null) {
        accuracyBefore = accuracy(session, split.heldOut(), heldOutLabels);
      }
      predictedBefore = heldOutLabels == null && heldOut > 0 ? classes(session, split.heldOut()) : null;
      changes = Recalibration.run(session, split.calibration(), matcher::matches, batchSize, toInferenceMode);
      if (changes.isEmpty()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--layers " + layers + " matches no BN layer");
      }
      Set<String> changed = changes.stream().map(Recalibration.LayerChange::name).collect(Collectors.toSet());
      Verified[] written = new Verified[1];
      double[] accuracyOld = accuracyBefore;
      try {
        // verified before it is renamed into place, so that a refused result leaves nothing behind
        Consumer<Path> writeAndVerify = target -> {
          session.saveTo(target);
          written[0] = verify(loader, target, options, split, heldOutLabels);
          if (heldOut > 0) {
            RecalibrationGuard.noCloser(before, written[0].metrics(), changed, split.heldOutSamples())
                .ifPresent(refusals::add);
          }
          if (heldOutLabels != null) {
            RecalibrationGuard.lessAccurate(accuracyOld[0], written[0].accuracy()[0], heldOutLabels.length)
                .ifPresent(refusals::add);
          }
          if (predictedBefore != null && written[0].predictions() != null) {
            RecalibrationGuard.oneClass(predictedBefore, written[0].predictions()).ifPresent(refusals::add);
          }
          if (!refusals.isEmpty() && !force) {
            throw new Refused();
          }
        };
        // the fixed model is of the input's kind: a directory (a SavedModel) or one file (ONNX)
        if (Files.isDirectory(model)) {
          OutputDirectory.write(out, force, writeAndVerify);
        } else {
          OutputFile.write(out, force, writeAndVerify);
        }
      } catch (Refused e) {
        return refuse(report(split, changes, before, written[0], accuracyBefore, predictedBefore, refusals, false));
      }
      verified = written[0];
    }
    emit(report(split, changes, before, verified, accuracyBefore, predictedBefore, refusals, true));
    return ExitCodes.PASS;
  }
  /** The formats a recalibration report has, by their lower-case names. */
  static final class RecalibrationFormat implements CommandLine.ITypeConverter<ReportFormat> {
    @Override
    public ReportFormat convert(String value) {
      return RecalibrationReportWriter.FORMATS.stream().filter(f -> f.label().equals(value)).findFirst()
          .orElseThrow(() -> new CommandLine.TypeConversionException("expected one of "
              + String.join(", ", new Candidates()) + ", got '" + value + "'"));
    }

    static final class Candidates extends ArrayList<String> {
      Candidates() {
        RecalibrationReportWriter.FORMATS.forEach(f -> add(f.label()));
      }
    }
  }

  /** The fixed model measured on the held-out samples. */
  private record Verified(List<Verification.LayerMetrics> metrics, CalibrationAccumulator consistency,
      double[] accuracy, Predictions predictions) {}

  /** Thrown out of the directory writer so that a refused result is never renamed into place. */
  private static final class Refused extends RuntimeException {
    Refused() {
      super(null, null, false, false);
    }
  }

  private Verified verify(ModelLoader loader, Path written, LoadOptions options, DataSplit split,
      int[] heldOutLabels) {
    try (ModelSession fixed = loader.open(written, options)) {
      List<Verification.LayerMetrics> after = Verification.measure(fixed, split.heldOut(), batchSize);
      CalibrationAccumulator consistency = new CalibrationAccumulator();
      fixed.batchSizeConsistency(split.heldOut(), batchSize, consistency);
      return new Verified(after, consistency, heldOutLabels == null ? null : accuracy(fixed, split.heldOut(), heldOutLabels),
          heldOutLabels == null && heldOut > 0 ? classes(fixed, split.heldOut()) : null);
    }
  }

  /** Writes the report of a refused run and says why on standard error, for logs that keep only that. */
  private int refuse(RecalibrationReport report) {
    emit(report);
    PrintWriter err = spec.commandLine().getErr();
    for (String reason : report.refusals()) {
      err.println("bncheck: recalibrate refused: " + reason + "; nothing written (--force writes anyway)");
    }
    err.flush();
    return ExitCodes.FINDINGS;
  }

  private RecalibrationReport refusedEarly(DataSplit split, List<String> refusals) {
    return new RecalibrationReport(model.toString(), false, split.calibrationSamples(),
        heldOut == 0 ? 0 : split.heldOutSamples(), List.of(), List.of(), Optional.empty(), Optional.empty(), refusals,
        false, out.toString(), List.of());
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
        : Optional.of(new RecalibrationReport.PredictedClasses(predictedBefore.distinct(), after.predictions().distinct(),
            after.predictions().outputs()));
    List<String> switched = changes.stream().filter(Recalibration.LayerChange::toInferenceMode)
        .map(Recalibration.LayerChange::name).toList();
    return new RecalibrationReport(model.toString(), false, split.calibrationSamples(),
        heldOut == 0 ? 0 : split.heldOutSamples(), rows, consistency, accuracy, predicted, refusals, written,
        out.toString(), switched);
  }

  /** The report, on standard output or atomically into --output. */
  private void emit(RecalibrationReport report) {
    try {
      if (output == null) {
        PrintWriter o = spec.commandLine().getOut();
        RecalibrationReportWriter.write(report, format, VersionProvider.version(), o);
      } else {
        AtomicFile.write(output, w -> RecalibrationReportWriter.write(report, format, VersionProvider.version(), w));
      }
    } catch (java.io.IOException e) {
      throw new OutputException((output == null ? "standard output" : output.toString()) + ": cannot write the report: "
          + e.getMessage(), e);
    }
  }

  /**
   * Everything this run reads. An {@code --inputs} spec counts whole and, if it holds {@code =},
   * also as the file after it: which of the two it names is decided only when it is read.
   */
  private List<Path> inputFiles() {
    List<Path> files = new ArrayList<>(List.of(model));
    for (String given : inputs) {
      int eq = given.indexOf('=');
      for (String file : List.of(given, eq < 0 ? "" : given.substring(eq + 1))) {
        if (!file.isEmpty()) {
          files.add(Path.of(file));
        }
      }
    }
    if (labels != null) {
      files.add(labels);
    }
    ConfigFile config = ((BnCheckCommand) spec.root().userObject()).config;
    if (config != null) {
      files.add(config.path());
    }
    return files;
  }

  /** A dump: each layer's statistics from its own captured activations (see DumpRecalibration). */
  private int recalibrateDump(ModelLoader loader, Glob matcher) {
    if (labels != null || inputs.size() > 1) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "a dump takes at most one --inputs (a dump with \"inputs\") and no --labels");
    }
    BnModel loaded = loader.load(model, CalibrationSink.NONE);
    Consumer<CalibrationSink> read = inputs.isEmpty() ? sink -> loader.load(model, sink)
        : sink -> Loaders.forCalibration(Path.of(inputs.get(0))).load(Path.of(inputs.get(0)), loaded, sink);
    DumpSplit split = DumpSplit.of(read, heldOut);
    DumpRecalibration.Result result = DumpRecalibration.run(loaded, split, matcher::matches);
    if (result.statistics().isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "no layer with calibration data matches --layers " + layers);
    }
    List<String> refusals = RecalibrationGuard.ofDump(loaded, split, result, heldOut > 0);
    boolean write = refusals.isEmpty() || force;
    if (write) {
      try {
        AtomicFile.write(out, w -> DumpStatisticsWriter.write(model, result.statistics(), w));
      } catch (java.io.IOException e) {
        throw new OutputException(out + ": cannot write the dump: " + e.getMessage(), e);
      }
    }
    List<RecalibrationReport.Row> rows = result.layers().stream()
        .map(r -> new RecalibrationReport.Row(r.name(), r.values(), r.before(), r.after())).toList();
    RecalibrationReport report = new RecalibrationReport(model.toString(), true, 0, 0, rows, List.of(),
        Optional.empty(), Optional.empty(), refusals, write, out.toString(), List.of());
    if (!write) {
      return refuse(report);
    }
    emit(report);
    return ExitCodes.PASS;
  }

  private Map<String, Tensor> limit(Map<String, Tensor> data) {
    if (maxSamples == null) {
      return data;
    }
    if (maxSamples < 2) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--max-samples needs at least 2 samples");
    }
    return DataSplit.firstSamples(data, maxSamples);
  }

  private int[] heldOutLabels(DataSplit split) {
    Tensor all = NpyReader.read(labels);
    int samples = split.calibrationSamples() + (heldOut == 0 ? 0 : split.heldOutSamples());
    if (all.shape().length != 1 || all.shape()[0] < samples) {
      throw new InvalidInputException(labels.toString(), "", "expected one label per sample (" + samples
          + "), got shape " + java.util.Arrays.toString(all.shape()));
    }
    Tensor held = DataSplit.of(Map.of("", DataSplit.firstSamples(Map.of("", all), samples).get("")), heldOut).heldOut()
        .get("");
    int[] out = new int[held.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (int) held.get(i);
    }
    return out;
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
