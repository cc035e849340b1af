package dev.bncheck.load.dump;

import com.fasterxml.jackson.core.JsonToken;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A file holding one TENSOR object of the dump format (docs/dump-format.md), such as calibration
 * data for a model's input: the public entry point to the dump's tensor parser.
 */
public final class TensorFile {

  private TensorFile() {}

  /** A regular file named *.json, or one whose first non-blank byte opens a JSON object. */
  public static boolean looksLikeJson(Path file) {
    return DumpFiles.looksLikeJson(file);
  }

  /**
   * Reads the tensor.
   *
   * @throws InvalidInputException when the file is unreadable, not one TENSOR object, or followed
   *     by anything but white space
   */
  public static Tensor read(Path file) {
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new InvalidInputException(file.toString(), "", "cannot read: " + e.getMessage(), e);
    }
    try (JsonInput in = new JsonInput(file)) {
      in.next("");
      Tensor tensor = new JsonTensorReader(in, size).read("", false);
      try {
        if (in.parser().nextToken() != null) {
          throw in.error("", "unexpected content after the tensor");
        }
      } catch (IOException e) {
        throw in.translate("", e);
      }
      return tensor;
    }
  }
}
