package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import java.nio.file.Path;
import java.util.List;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * The one place bncheck starts TensorFlow's native runtime: only for TensorFlow inputs, so runs
 * on JSON dumps never load it.
 */
final class TensorFlowRuntime {

  private TensorFlowRuntime() {}

  /** Loads a SavedModel: this restores its variables from its checkpoint. */
  static SavedModelBundle load(Path directory, List<String> tags) {
    try {
      return SavedModelBundle.load(directory.toString(), tags.toArray(new String[0]));
    } catch (TensorFlowException | IllegalArgumentException e) {
      throw new InvalidInputException(directory.toString(), "",
          "TensorFlow cannot load it (missing or corrupt variables?): " + firstLine(e.getMessage()), e);
    }
  }

  static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    String trimmed = message.strip();
    int nl = trimmed.indexOf('\n');
    return nl < 0 ? trimmed : trimmed.substring(0, nl);
  }
}
