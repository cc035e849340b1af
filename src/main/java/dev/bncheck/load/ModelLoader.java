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

  /** Loads the model with the default options. */
  default BnModel load(Path input, CalibrationSink sink) {
    return load(input, LoadOptions.DEFAULTS, sink);
  }
}
