package dev.bncheck.cli;

import dev.bncheck.app.CalibrationRequest;
import dev.bncheck.app.CalibrationRequest.TrainingView;
import dev.bncheck.load.BatchOrder;
import dev.bncheck.load.LoadOptions;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The calibration data {@code check} reads, and how a backend runs the model on it. */
final class CalibrationOptions {

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
  Integer synthetic;

  @Option(names = "--batch-size", paramLabel = "N", defaultValue = "32",
      description = "TensorFlow and ONNX models: samples run at once (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--max-samples", paramLabel = "N",
      description = "TensorFlow and ONNX models: use at most N calibration samples (default: all).")
  Long maxSamples;

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

  static final class TrainingViewConverter extends LowercaseEnumConverter<TrainingView> {
    TrainingViewConverter() {
      super(TrainingView.class);
    }
  }

  @Option(names = "--training-view", paramLabel = "WHEN", converter = TrainingViewConverter.class,
      description = "TensorFlow and ONNX models: run the training view (every BN layer in training mode, BN003's reference):"
          + " auto (default: in a second pass, only when some layer's statistics are beyond the BN003 warning"
          + " thresholds in the inference view and not explained by BN001 or BN007), always, or never (BN003 then"
          + " uses the inference view). Dumps: use the training view they record (\"training_inputs\") in the"
          + " same cases.")
  TrainingView trainingView;

  @Option(names = "--training-view-samples", paramLabel = "N",
      description = "TensorFlow and ONNX models: the training view runs on the batches that start within the first N samples"
          + " (default: " + LoadOptions.DEFAULT_TRAINING_VIEW_SAMPLES + ").")
  Long trainingViewSamples;

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  /** Options only a run of the model reads; a config's defaults for them do not count as given. */
  private static final List<String> RUN_OPTIONS = List.of("--batch-size", "--max-samples", "--batch-order",
      "--training-view", "--training-view-samples");

  CalibrationRequest request() {
    CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
    List<String> given = RUN_OPTIONS.stream().filter(parsed::hasMatchedOption).toList();
    return new CalibrationRequest(inputs, inputNodes, synthetic, batchSize, maxSamples, batchOrder, trainingView,
        trainingViewSamples, given);
  }
}
