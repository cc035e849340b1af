package dev.bncheck.cli;

import dev.bncheck.app.RecalibrationRun;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.report.RecalibrationReportWriter;
import dev.bncheck.report.ReportFormat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** What {@code recalibrate} reads and writes, and the guards of its run. */
final class RecalibrationOptions {

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
      description = "Write the report to FILE (atomically) instead of standard output; without --format, in the"
          + " format its extension names (.json, .md), else as text.")
  Path output;

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

  RecalibrationRun.Request request(Path model, ModelLoader loader, LoadOptions options) {
    return new RecalibrationRun.Request(model, loader, inputs, labels, out, force, toInferenceMode, layers, maxSamples,
        heldOut, batchSize, options);
  }

  /**
   * The data files this run reads. An {@code --inputs} spec counts whole and, if it
   * holds {@code =}, also as the file after it: which of the two it names is decided only when it is read.
   */
  List<Path> inputFiles() {
    List<Path> files = new ArrayList<>();
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
    return files;
  }
}
