package dev.bncheck.cli;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.RunInfo;
import dev.bncheck.app.CalibrationReading;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.Loaders;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.load.Sha256;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Everything inspect does, plus the analysis of calibration data. */
@Command(name = "check", sortOptions = false, mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Check the batch-normalization layers against calibration data: both modes of every layer,"
        + " their divergence from the data's statistics, and every static check.")
final class CheckCommand extends ReportCommand {

  @Parameters(index = "0", paramLabel = "MODEL",
      description = "The model: a TensorFlow SavedModel directory, a frozen graph (.pb), an ONNX model (.onnx), a"
          + " Keras model (.keras, .h5), a PyTorch checkpoint (.pt, .pth, .safetensors) or a bncheck JSON dump.")
  Path model;

  @Option(names = "--inputs", paramLabel = "[NAME=]FILE",
      description = "Calibration data. For a TensorFlow or ONNX model: its inputs as .npy (numbers, or strings"
          + " of dtype S or U), .npz or a JSON tensor, the first axis listing the samples; NAME=FILE per input when"
          + " there are several (repeatable). A FILE written @PATH feeds a string input the bytes of that file as one"
          + " sample (a WAV file), and @GLOB (quoted, as in '@clips/*.wav') one sample per matching file, sorted by"
          + " path. NAME=VALUE (true, false or a number) gives a scalar input one value for every batch, such as"
          + " a mode flag (is_training=false). For a dump, a Keras model (.keras, .h5) or a PyTorch checkpoint: a dump"
          + " whose layers (matched by name) carry \"inputs\"; activations embedded in MODEL are then not used.")
  List<String> inputs = new ArrayList<>();

  @Option(names = "--input-node", paramLabel = "NODE[:INDEX]",
      description = "TensorFlow models: feed this tensor of the top-level graph instead of the model's inputs"
          + " (repeatable), e.g. Mfcc:0 to give MFCC features to a graph that decodes WAV files; --inputs NAME=FILE"
          + " or --synthetic then give its data, NAME as written here. Its dtype and shape are checked against the"
          + " data; the op check still covers the whole graph.")
  List<String> inputNodes = new ArrayList<>();

  @Option(names = "--synthetic", paramLabel = "N",
      description = "TensorFlow and ONNX models without data at hand: feed N random samples. Data-driven findings are then"
          + " indicative only, and the report says so.")
  int synthetic;

  @Option(names = "--batch-size", paramLabel = "N", defaultValue = "32",
      description = "TensorFlow and ONNX models: samples run at once (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--max-samples", paramLabel = "N",
      description = "TensorFlow and ONNX models: use at most N calibration samples (default: all).")
  Long maxSamples;

  /** The order in which calibration samples are formed into batches. */
  enum BatchOrder { SHUFFLED, FILE }

  static final class BatchOrderConverter extends LowercaseEnumConverter<BatchOrder> {
    BatchOrderConverter() {
      super(BatchOrder.class);
    }
  }

  @Option(names = "--batch-order", paramLabel = "ORDER", converter = BatchOrderConverter.class,
      defaultValue = "shuffled",
      description = "TensorFlow and ONNX models: form batches from the samples in a fixed shuffled order (shuffled, the"
          + " default), so that each batch is a sample of the whole and BN004 does not depend on the file's order"
          + " (a file sorted by class gives batch statistics unlike the population's); or in the file's order"
          + " (file).")
  BatchOrder batchOrder;

  /** When to run the training view, the reference BN003 judges moving statistics on. */
  enum TrainingView { AUTO, ALWAYS, NEVER }

  static final class TrainingViewConverter extends LowercaseEnumConverter<TrainingView> {
    TrainingViewConverter() {
      super(TrainingView.class);
    }
  }

  @Option(names = "--training-view", paramLabel = "WHEN", converter = TrainingViewConverter.class,
      description = "TensorFlow and ONNX models: run the training view (every BN layer in training mode, BN003's reference):"
          + " auto (default: in a second pass, only when some layer's statistics are beyond the BN003 warning"
          + " thresholds in the inference view and not explained by BN001 or BN007), always, or never (BN003 then"
          + " uses the inference view).")
  TrainingView trainingView;

  @Option(names = "--training-view-samples", paramLabel = "N",
      description = "TensorFlow and ONNX models: the training view runs on the batches that start within the first N samples"
          + " (default: " + LoadOptions.DEFAULT_TRAINING_VIEW_SAMPLES + ").")
  Long trainingViewSamples;

  /** The loader for a model: the registered ones, or a test's. */
  Function<Path, ModelLoader> loaders = Loaders::forModel;

  @Override
  Path modelFile() {
    return model;
  }

  @Override
  List<Path> inputFiles() {
    List<Path> files = new ArrayList<>(List.of(model));
    files.addAll(dataFiles());
    return files;
  }

  /** The files named by --inputs, without their NAME= part, each glob's files listed. */
  private List<Path> dataFiles() {
    return ModelInputs.files(inputs);
  }

  @Override
  Report run(Analyzer analyzer) {
    CompletableFuture<String> modelHash = inBackground(() -> Sha256.of(model));
    CompletableFuture<String> dataHash = inBackground(() -> inputs.isEmpty() ? null : Sha256.ofAll(dataFiles()));
    CalibrationAccumulator collected = new CalibrationAccumulator(analyzer::trainingViewMatters);
    CalibrationSink accumulator = ProgressSink.around(collected, common.verbosity.quiet());
    ModelLoader loader = loaders.apply(model);
    if (spec.commandLine().getParseResult().hasMatchedOption("--synthetic") && synthetic < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--synthetic needs at least 1 sample");
    }
    if (synthetic != 0 && !inputs.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--synthetic and --inputs exclude each other");
    }
    Optional<Path> dump = Optional.empty();
    if (loader.runsModel()) {
      if (!inputNodes.isEmpty() && inputs.isEmpty() && synthetic == 0) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--input-node feeds data: give it with --inputs or --synthetic");
      }
    } else if (synthetic != 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--synthetic applies to TensorFlow and ONNX models"
          + " only");
    } else if (!inputNodes.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--input-node applies to TensorFlow models only");
    } else if (!inputs.isEmpty()) {
      if (inputs.size() > 1 || dataFiles().get(0).toString().length() < inputs.get(0).length()) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "a dump takes one --inputs FILE (a dump with \"inputs\"), not " + String.join(" ", inputs));
      }
      dump = Optional.of(dataFiles().get(0));
    }
    CalibrationReading.Read read = CalibrationReading.read(loader, new CalibrationReading.Request(model,
        modelOptions.toLoadOptions(), loader.runsModel() ? loadOptions() : modelOptions.toLoadOptions(), dump,
        trainingView == TrainingView.ALWAYS), collected, accumulator);
    RunInfo run = new RunInfo(VersionProvider.version(), "check", join(modelHash), read.data(), join(dataHash),
        common.failOn, modelOptions.relaxations(), common.requireBn).withBatches(read.batches())
        .withBackend(read.backend());
    ProgressSink.finish(accumulator);
    return analyzer.analyze(read.model(), collected,
        synthetic > 0 ? Analyzer.DataAvailability.SYNTHETIC : Analyzer.DataAvailability.REQUESTED, run);
  }

  private LoadOptions loadOptions() {
    LoadOptions base = modelOptions.toLoadOptions();
    try {
      return new LoadOptions(base.tagSet(), base.signature(), inputs, batchSize,
          maxSamples == null ? Long.MAX_VALUE : maxSamples, synthetic)
          .withSafety(base.allowedOps(), base.trustModel())
          .withTimeout(base.timeout())
          .withTrainingViewSamples(trainingView == TrainingView.NEVER || batchSize < 2 ? 0
              : trainingViewSamples == null ? LoadOptions.DEFAULT_TRAINING_VIEW_SAMPLES : trainingViewSamples)
          .withShuffledSamples(batchOrder == BatchOrder.SHUFFLED)
          .withInputNodes(inputNodes);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }
}
