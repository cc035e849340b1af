package dev.bncheck.load.keras;

import dev.bncheck.load.InvalidInputException;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.api.dataset.ChunkedDataset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The HDF5 reads a Keras file needs, over jhdf, each bounded before it allocates and each failure
 * an {@link InvalidInputException} naming the object: jhdf reports a corrupt file with its own
 * runtime exceptions (and, deep in a forged structure, with whatever the JDK throws), which must
 * not reach the user as a crash. The only class of bncheck that knows jhdf, so that jhdf is loaded
 * for Keras input alone.
 */
final class Hdf5File implements AutoCloseable {

  private final HdfFile hdf;
  private final String file;
  private final String source;

  private Hdf5File(HdfFile hdf, String file, String source) {
    this.hdf = hdf;
    this.file = file;
    this.source = source;
  }

  /**
   * Opens HDF5 content held in memory: nothing is written to disk, and every read stays within
   * the bytes.
   *
   * @param file the model file, for messages
   * @param source the HDF5 file inside it, for messages (e.g. {@code model.weights.h5}); empty
   *     when the model file is the HDF5 file
   */
  static Hdf5File open(String file, String source, byte[] bytes) {
    HdfFile hdf;
    long end;
    try {
      hdf = HdfFile.fromBytes(bytes);
      var superblock = hdf.getHdfBackingStorage().getSuperblock();
      end = superblock.getBaseAddressByte() + superblock.getEndOfFileAddress();
    } catch (RuntimeException | StackOverflowError e) {
      throw new InvalidInputException(file, source, "not a readable HDF5 file: " + reason(e));
    }
    // A cut file may still hold every BN weight, yet it is not the file that was saved.
    if (end > bytes.length) {
      hdf.close();
      throw new InvalidInputException(file, source, "truncated: the HDF5 superblock gives its end at byte " + end
          + ", the file has " + bytes.length + " bytes");
    }
    return new Hdf5File(hdf, file, source);
  }

  /** The model file, for messages. */
  String file() {
    return file;
  }

  /** Whether {@code path} names a group (not a link). */
  boolean isGroup(String path) {
    return guard(path, () -> {
      Node node = find(path);
      return node != null && !node.isLink() && node.isGroup();
    });
  }

  /** Where a group's object header lies in the file: the same address is the same object, however reached. */
  long address(String path) {
    return guard(path, () -> {
      Node node = find(path);
      if (node == null || node.isLink() || !node.isGroup()) {
        throw error(path, "not a group");
      }
      return node.getAddress();
    });
  }

  /** The names of a group's members, as the file lists them. */
  List<String> children(String path) {
    return guard(path, () -> {
      Node node = find(path);
      if (node == null || node.isLink() || !node.isGroup()) {
        throw error(path, "not a group");
      }
      return new ArrayList<>(((Group) node).getChildren().keySet());
    });
  }

  /** A string attribute of a group or dataset; empty when there is none. */
  Optional<String> stringAttribute(String path, String name) {
    return guard(path + " attribute " + name, () -> {
      Attribute attribute = attribute(path, name);
      if (attribute == null) {
        return Optional.empty();
      }
      Object data = attribute.getData();
      if (data instanceof String s) {
        return Optional.of(s);
      }
      if (data instanceof String[] a && a.length == 1) {
        return Optional.of(a[0]);
      }
      throw error(path + " attribute " + name, "not a string");
    });
  }

  /** A string-array attribute (an empty array of any type reads as none); empty when there is no such attribute. */
  Optional<List<String>> stringsAttribute(String path, String name) {
    return guard(path + " attribute " + name, () -> {
      Attribute attribute = attribute(path, name);
      if (attribute == null) {
        return Optional.empty();
      }
      if (attribute.getDimensions().length > 1 || attribute.getSize() > KerasLimits.MAX_WEIGHT_NAMES) {
        throw error(path + " attribute " + name, "a list of strings expected, got shape "
            + Arrays.toString(attribute.getDimensions()));
      }
      if (attribute.getSize() == 0 || attribute.isEmpty()) {
        return Optional.of(List.of());
      }
      Object data = attribute.getData();
      if (data instanceof String[] a) {
        return Optional.of(List.of(a));
      }
      if (data instanceof String s) {
        return Optional.of(List.of(s));
      }
      throw error(path + " attribute " + name, "not a list of strings");
    });
  }

  /** The shape of a dataset stored in the file, or null when {@code path} is none (missing, a link, a group). */
  long[] shape(String path) {
    return guard(path, () -> find(path) instanceof Dataset dataset && !dataset.isLink()
        ? dataset.getDimensionsAsLong() : null);
  }

  /**
   * A one-dimensional floating-point dataset, its shape checked before anything is read.
   *
   * @param owner what the vector is, for messages (e.g. {@code moving_mean of BN layer "bn1"})
   * @throws InvalidInputException when it is missing, a link, not a vector of floats, or longer
   *     than {@link KerasLimits#MAX_CHANNELS}
   */
  double[] vector(String path, String owner) {
    return guard(path, owner, () -> {
      Node node = find(path);
      if (node == null) {
        throw error(path, owner, "missing");
      }
      if (node.isLink()) {
        throw error(path, owner, "a link; bncheck reads no object but those stored in the file");
      }
      if (!(node instanceof Dataset dataset)) {
        throw error(path, owner, "not a dataset");
      }
      long[] shape = dataset.getDimensionsAsLong();
      if (shape.length != 1) {
        throw error(path, owner, "a vector (one value per channel) expected, got shape " + Arrays.toString(shape));
      }
      if (shape[0] < 1 || shape[0] > KerasLimits.MAX_CHANNELS) {
        throw error(path, owner, "declares " + shape[0] + " channels; bncheck reads 1 to " + KerasLimits.MAX_CHANNELS);
      }
      if (dataset instanceof ChunkedDataset chunked) {
        long chunk = 1;
        for (int d : chunked.getChunkDimensions()) {
          chunk *= Math.max(d, 1);
          if (chunk > KerasLimits.MAX_CHANNELS) {
            throw error(path, owner, "declares chunks of more than " + KerasLimits.MAX_CHANNELS + " values");
          }
        }
      }
      Class<?> type = dataset.getJavaType();
      if (type != float.class && type != double.class) {
        throw error(path, owner, "holds " + type.getSimpleName() + " values, not floating-point numbers");
      }
      Object data = dataset.getData();
      if (data == null) {
        throw error(path, owner, "holds no stored values (the dataset was created but never written)");
      }
      if (data instanceof float[] f) {
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
          out[i] = f[i];
        }
        return out;
      }
      if (data instanceof double[] d) {
        return d;
      }
      throw error(path, owner, "holds " + data.getClass().getSimpleName() + ", not a vector of numbers");
    });
  }

  @Override
  public void close() {
    try {
      hdf.close();
    } catch (RuntimeException e) {
      // the bytes are in memory: closing releases nothing that a failure here would leak
    }
  }

  private Node find(String path) {
    if (path.isEmpty() || path.equals("/")) {
      return hdf;
    }
    Node node = hdf;
    for (String part : path.split("/")) {
      if (part.isEmpty()) {
        continue;
      }
      if (node.isLink()) {
        throw error(path, "passes through a link; bncheck reads no object but those stored in the file");
      }
      if (!node.isGroup()) {
        return null;
      }
      Node child = ((Group) node).getChildren().get(part);
      if (child == null) {
        return null;
      }
      node = child;
    }
    return node;
  }

  private Attribute attribute(String path, String name) {
    Node node = find(path);
    if (node == null) {
      throw error(path, "missing");
    }
    if (node.isLink()) {
      throw error(path, "a link; bncheck reads no object but those stored in the file");
    }
    return node.getAttributes().get(name);
  }

  private <T> T guard(String where, Supplier<T> read) {
    return guard(where, "", read);
  }

  /** @param owner what the object holds, for messages where its path does not say (e.g. {@code BN layer "bn1"}) */
  private <T> T guard(String where, String owner, Supplier<T> read) {
    try {
      return read.get();
    } catch (InvalidInputException e) {
      throw e;
    } catch (RuntimeException | StackOverflowError e) {
      throw error(where, owner, "unreadable: " + reason(e));
    }
  }

  private InvalidInputException error(String where, String problem) {
    return error(where, "", problem);
  }

  private InvalidInputException error(String where, String owner, String problem) {
    return new InvalidInputException(file, source.isEmpty() ? where : source + ": " + where,
        problem + (owner.isEmpty() ? "" : " (" + owner + ")"));
  }

  private static String reason(Throwable e) {
    String message = e.getMessage();
    if (message == null || message.isBlank()) {
      return "corrupt or truncated (" + e.getClass().getSimpleName() + ")";
    }
    int end = message.indexOf('\n');
    return end < 0 ? message : message.substring(0, end);
  }
}
