package dev.bncheck.load.onnx;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.onnx.OnnxProto.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * Reads tensors an ONNX model keeps in side files ({@code data_location: EXTERNAL}), from the
 * model's own folder only: a location is a relative path that stays inside the folder, without
 * {@code ..} and without a symbolic link leading out, so that a model cannot make bncheck (or ONNX
 * Runtime, which gets the data inlined) read other files on the machine.
 */
final class ExternalData {

  private static final Pattern WINDOWS_ROOT = Pattern.compile("^[A-Za-z]:.*|^[/\\\\].*");

  private final String file;
  private final Path folder;
  private long bytesRead;

  /**
   * @param model the model file; its folder holds the data
   */
  ExternalData(Path model) {
    this.file = model.toString();
    Path parent = model.toAbsolutePath().getParent();
    try {
      this.folder = parent.toRealPath();
    } catch (IOException e) {
      throw new InvalidInputException(file, "", "cannot resolve the model's folder: " + e.getMessage(), e);
    }
  }

  /** The bytes read so far, over every tensor. */
  long bytesRead() {
    return bytesRead;
  }

  /**
   * The tensor's bytes as its side file holds them.
   *
   * @param expected the bytes its data type and dimensions need
   */
  byte[] read(TensorProto tensor, long expected) {
    String where = "tensor " + tensor.name();
    if (expected < 0) {
      // negative dimensions, or more values than a Java array holds (elementCount is -1): named as
      // given, not multiplied out into a negative size
      throw new InvalidInputException(file, where, "dimensions " + Arrays.toString(tensor.dims())
          + " give no size bncheck reads into one array (a negative dimension, or 2^31 values and more)");
    }
    Path resolved = location(tensor, where);
    String location = tensor.externalValue("location").orElse("");
    long offset = number(tensor, "offset", 0, where);
    long size;
    try {
      size = Files.size(resolved);
    } catch (IOException e) {
      throw new InvalidInputException(file, where, "cannot read external data " + location + ": " + e.getMessage(), e);
    }
    if (offset > size) {
      throw new InvalidInputException(file, where, "external data " + location + " holds " + size
          + " bytes, fewer than its offset " + offset);
    }
    long length = number(tensor, "length", size - offset, where);
    if (length > size - offset) {
      throw new InvalidInputException(file, where, "external data " + location + " holds " + size
          + " bytes, fewer than offset " + offset + " plus length " + length);
    }
    if (length != expected) {
      throw new InvalidInputException(file, where, "external data of " + length + " bytes for a tensor of "
          + expected);
    }
    if (bytesRead + length > OnnxLimits.MAX_MODEL_BYTES) {
      throw new InvalidInputException(file, where, "external data beyond " + OnnxLimits.MAX_MODEL_BYTES
          + " bytes in all; bncheck refuses such a model");
    }
    byte[] bytes = new byte[(int) length];
    try (FileChannel channel = FileChannel.open(resolved, StandardOpenOption.READ)) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      long at = offset;
      while (buffer.hasRemaining()) {
        int n = channel.read(buffer, at);
        if (n < 0) {
          throw new InvalidInputException(file, where, "external data " + location + " ended early");
        }
        at += n;
      }
    } catch (IOException e) {
      throw new InvalidInputException(file, where, "cannot read external data " + location + ": " + e.getMessage(), e);
    }
    bytesRead += length;
    return bytes;
  }

  /** The file a tensor's data is in, resolved in the model's folder; refused when it could be anywhere else. */
  Path location(TensorProto tensor, String where) {
    String location = tensor.externalValue("location").orElse("");
    if (location.isEmpty()) {
      throw new InvalidInputException(file, where, "external data without a location");
    }
    return inside(location, where);
  }

  /** The location resolved in the model's folder, refused when it could lead anywhere else. */
  private Path inside(String location, String where) {
    String quoted = "'" + location.replaceAll("\\p{Cntrl}", "?") + "'";
    if (location.indexOf('\0') >= 0) {
      throw new InvalidInputException(file, where, "external data location " + quoted + " holds a NUL byte");
    }
    if (WINDOWS_ROOT.matcher(location).matches()) {
      throw new InvalidInputException(file, where, "external data location " + quoted
          + " is absolute; bncheck reads external data from the model's folder only");
    }
    for (String segment : location.split("[/\\\\]")) {
      if (segment.equals("..")) {
        throw new InvalidInputException(file, where, "external data location " + quoted
            + " holds a '..' segment; bncheck reads external data from the model's folder only, by paths without"
            + " '..'");
      }
    }
    Path resolved = folder.resolve(location).normalize();
    if (!Files.exists(resolved, LinkOption.NOFOLLOW_LINKS)) {
      throw new InvalidInputException(file, where, "external data " + quoted + " not found beside the model");
    }
    try {
      Path real = resolved.toRealPath();
      if (!real.startsWith(folder)) {
        throw new InvalidInputException(file, where, "external data location " + quoted
            + " leads outside the model's folder (through a symbolic link); bncheck reads external data from the"
            + " model's folder only");
      }
      if (!Files.isRegularFile(real)) {
        throw new InvalidInputException(file, where, "external data location " + quoted + " is "
            + (Files.isDirectory(real) ? "a folder" : "not a regular file"));
      }
      return real;
    } catch (IOException e) {
      throw new InvalidInputException(file, where, "cannot resolve external data " + quoted + ": " + e.getMessage(), e);
    }
  }

  private long number(TensorProto tensor, String key, long otherwise, String where) {
    String text = tensor.externalValue(key).orElse(null);
    if (text == null) {
      return otherwise;
    }
    try {
      long value = Long.parseLong(text.trim());
      if (value < 0) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw new InvalidInputException(file, where, "external data " + key + " '" + text
          + "' is not a byte count");
    }
  }
}
