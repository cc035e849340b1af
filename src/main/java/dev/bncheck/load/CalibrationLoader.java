package dev.bncheck.load;

import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Path;

/** Reads calibration data given apart from the model ({@code --inputs}) into the sink. */
public interface CalibrationLoader {

  String description();

  boolean accepts(Path input);

  /**
   * Streams the file's activations for the model's layers into the sink.
   *
   * @throws InvalidInputException when the file is unreadable, invalid, or does not fit the model
   */
  void load(Path input, BnModel model, CalibrationSink sink);

  /**
   * What the file records of each layer's epsilon, momentum and channel axis, read before the
   * model so that its loader can take them where the model's file records none.
   *
   * @throws InvalidInputException when the file is unreadable or invalid
   */
  RecordedConventions conventions(Path input);
}
