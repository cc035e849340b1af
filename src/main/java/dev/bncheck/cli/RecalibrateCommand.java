package dev.bncheck.cli;

import dev.bncheck.analysis.Glob;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.Loaders;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.load.array.NpyReader;
import dev.bncheck.load.dump.BnModelFromDump;
import dev.bncheck.model.Tensor;
import dev.bncheck.repair.DataSplit;
import dev.bncheck.repair.DumpRecalibrationRun;
import dev.bncheck.repair.ModelRecalibration;
import dev.bncheck.report.AtomicFile;
import dev.bncheck.report.RecalibrationReport;
import dev.bncheck.report.RecalibrationReportWriter;
import dev.bncheck.report.ReportFormat;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
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

  @Mixin Verbosity verbosity;

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
    InputOverlap.requireNotAnInput(spec, "--out " + out, out, read);
    OutputFolder.require(spec, "--out", out);
    if (output != null) {
      OutputFolder.require(spec, "--output", output);
      InputOverlap.requireNotAnInput(spec, "--output " + output, output, read);
      if (InputOverlap.sameFile(out, output)) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--out " + out + " and --output " + output + " name the same file");
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
    RecalibrationReport report = ModelRecalibration.run(loader, new ModelRecalibration.Settings(model, out, force,
        toInferenceMode, matcher, heldOut, batchSize, options), split, heldOutLabels);
    if (!report.written()) {
      return refuse(report);
    }
    emit(report);
    return ExitCodes.PASS;
  }

  /** The formats a recalibration report has, by their lower-case names. */
  static final class RecalibrationFormat extends CommonOptions.FormatConverter {
    RecalibrationFormat() {
      super(RecalibrationReportWriter.FORMATS);
    }

    static final class Candidates extends CommonOptions.FormatCandidates {
      private static final long serialVersionUID = 1L;

      Candidates() {
        super(RecalibrationReportWriter.FORMATS);
      }
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

  /** A dump: each layer's statistics from its own captured activations (see DumpRecalibrationRun). */
  private int recalibrateDump(ModelLoader loader, Glob matcher) {
    if (labels != null || inputs.size() > 1) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "a dump takes at most one --inputs (a dump with \"inputs\") and no --labels");
    }
    RecalibrationReport report;
    try {
      report = DumpRecalibrationRun.run(loader, model, inputs.stream().findFirst().map(Path::of), out, force, matcher,
          heldOut);
    } catch (java.io.UncheckedIOException e) {
      throw new OutputException(e.getMessage(), e);
    }
    if (!report.written()) {
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




}
