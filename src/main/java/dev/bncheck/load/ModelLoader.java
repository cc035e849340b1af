package dev.bncheck.load;

import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Path;

/**
 * Reads one kind of model input into the neutral {@link BnModel}. Calibration activations, when
 * the input carries or produces them, are streamed into the sink batch by batch.
 */
public interface ModelLoader {

  /** A short name for messages, e.g. {@code JSON tensor dump}. */
  String description();

  /** Whether this loader recognises the input (by its name or a cheap look at its start). */
  boolean accepts(Path input);

  /**
   * Loads the model.
   *
   * @throws InvalidInputException when the input is unreadable or invalid
   */
  BnModel load(Path input, LoadOptions options, CalibrationSink sink);

  /**
   * Whether bncheck runs this kind of model on calibration data for its inputs
   * ({@link LoadOptions#inputs()}), rather than reading activations stored with it.
   */
  default boolean runsModel() {
    return false;
  }

  /**
   * Opens the model in its framework, for loaders that {@link #runsModel run it}. Options with
   * calibration data open it to {@link ModelSession#calibrate calibrate} on that data; options
   * without open it to run on data given later and to write new statistics (recalibrate), and
   * what writing runs is checked here, before anything runs.
   *
   * @throws InvalidInputException when the input is unreadable, invalid or refused
   */
  default ModelSession open(Path input, LoadOptions options) {
    throw new UnsupportedOperationException(description() + ": bncheck does not run this kind of model");
  }

  /**
   * Files besides the input that the model reads (an ONNX model's external data), so that no
   * output replaces them; found by reading the model, so asked only when a run names outputs.
   *
   * @throws InvalidInputException when the input is unreadable or invalid
   */
  default java.util.List<Path> sideFiles(Path input) {
    return java.util.List.of();
  }

  /** Whether recalibrate can write new moving statistics into this kind of model ({@link ModelSession#saveTo}). */
  default boolean writesStatistics() {
    return false;
  }

  /**
   * For kinds recalibrate cannot write, what to do instead (e.g. which exporter makes a dump of
   * the model); empty when there is nothing to add.
   */
  default java.util.Optional<String> recalibrateInstead() {
    return java.util.Optional.empty();
  }

  /** Loads the model with the default options. */
  default BnModel load(Path input, CalibrationSink sink) {
    return load(input, LoadOptions.DEFAULTS, sink);
  }
}
