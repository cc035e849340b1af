package dev.bncheck.load.dump;

import com.fasterxml.jackson.core.Base64Variants;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.bncheck.load.JavaHeap;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Reads one TENSOR value of the dump format straight into a primitive array: no tree of boxed
 * numbers, so a dump of several hundred MB loads in seconds.
 */
final class JsonTensorReader {

  private static final int MAX_RANK = 8;

  private final JsonInput in;
  private final long maxValuesInFile;

  JsonTensorReader(JsonInput in, long fileSize) {
    this.in = in;
    // Every value in a data array takes at least two characters ("0,"), and base64 packs
    // three bytes in four characters: no honest tensor in this file can declare more.
    this.maxValuesInFile = Math.max(16, fileSize / 2 + 1);
  }

  /** Reads a TENSOR object, or a bare array of numbers when {@code bareArrayAllowed}. */
  Tensor read(String location, boolean bareArrayAllowed) {
    JsonToken token = in.parser().currentToken();
    if (token == JsonToken.START_ARRAY && bareArrayAllowed) {
      NumberSink values = new NumberSink(location, false, -1);
      readNumbers(location, values, 0);
      double[] data = values.doubles();
      return new Tensor.Float64(new int[] {data.length}, data);
    }
    if (token != JsonToken.START_OBJECT) {
      throw in.error(
          location,
          "expected a tensor object {\"dtype\", \"shape\", \"data\" or \"base64\"}"
              + (bareArrayAllowed ? " or an array of numbers" : "")
              + ", got "
              + describe(token));
    }
    String dtype = null;
    int[] shape = null;
    NumberSink values = null;
    byte[] bytes = null;
    while (in.next(location) != JsonToken.END_OBJECT) {
      String field = in.text(location);
      String fieldLocation = location + "." + field;
      JsonToken value = in.next(fieldLocation);
      switch (field) {
        case "dtype" -> dtype = readDtype(fieldLocation, value);
        case "shape" -> shape = readShape(fieldLocation, value);
        case "data" -> {
          if (value != JsonToken.START_ARRAY) {
            throw in.error(fieldLocation, "expected an array of numbers, got " + describe(value));
          }
          long declared = shape == null ? -1 : declaredCount(location, shape);
          // With the dtype not yet known, read doubles: narrowing later loses nothing.
          boolean asFloat = "float32".equals(dtype);
          if (declared >= 0) {
            reserve(location, "shape " + Tensor.describeShape(shape), declared * (asFloat ? 4 : 8));
          }
          values = new NumberSink(fieldLocation, asFloat, declared);
          readNumbers(fieldLocation, values, 0);
        }
        case "base64" -> {
          if (value != JsonToken.VALUE_STRING) {
            throw in.error(fieldLocation, "expected a base64 string, got " + describe(value));
          }
          bytes = readBase64(fieldLocation);
        }
        default -> throw in.error(fieldLocation, "unknown field in a tensor");
      }
    }
    if (dtype == null) {
      throw in.error(location, "tensor has no \"dtype\"");
    }
    if (shape == null) {
      throw in.error(location, "tensor has no \"shape\"");
    }
    if ((values == null) == (bytes == null)) {
      throw in.error(location, "tensor needs exactly one of \"data\" and \"base64\"");
    }
    long count = declaredCount(location, shape);
    return values != null
        ? fromNumbers(location, dtype, shape, count, values)
        : fromBytes(location + ".base64", dtype, shape, count, bytes);
  }

  private Tensor fromNumbers(String location, String dtype, int[] shape, long count, NumberSink values) {
    if (values.size() != count) {
      throw in.error(
          location + ".data",
          "shape " + Tensor.describeShape(shape) + " needs " + count + " values, got " + values.size());
    }
    return "float64".equals(dtype)
        ? new Tensor.Float64(shape, values.doubles())
        : new Tensor.Float32(shape, values.floats());
  }

  private Tensor fromBytes(String location, String dtype, int[] shape, long count, byte[] bytes) {
    int width = "float64".equals(dtype) ? 8 : 4;
    if (bytes.length != count * width) {
      throw in.error(
          location,
          "shape " + Tensor.describeShape(shape) + " needs " + count * width + " bytes of "
              + dtype + ", got " + bytes.length);
    }
    reserve(location, "shape " + Tensor.describeShape(shape), count * width);
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (width == 8) {
      double[] data = new double[(int) count];
      buffer.asDoubleBuffer().get(data);
      return new Tensor.Float64(shape, data);
    }
    float[] data = new float[(int) count];
    buffer.asFloatBuffer().get(data);
    return new Tensor.Float32(shape, data);
  }

  private String readDtype(String location, JsonToken value) {
    String dtype = value == JsonToken.VALUE_STRING ? in.text(location) : null;
    if (!"float32".equals(dtype) && !"float64".equals(dtype)) {
      throw in.error(location, "expected \"float32\" or \"float64\", got " + describe(value));
    }
    return dtype;
  }

  private int[] readShape(String location, JsonToken value) {
    if (value != JsonToken.START_ARRAY) {
      throw in.error(location, "expected an array of dimensions, got " + describe(value));
    }
    int[] dims = new int[MAX_RANK];
    int rank = 0;
    JsonToken token;
    while ((token = in.next(location)) != JsonToken.END_ARRAY) {
      String dimLocation = location + "[" + rank + "]";
      if (rank == MAX_RANK) {
        throw in.error(location, "more than " + MAX_RANK + " dimensions");
      }
      if (token != JsonToken.VALUE_NUMBER_INT) {
        throw in.error(dimLocation, "expected a non-negative integer, got " + describe(token));
      }
      long dim = longValue(dimLocation);
      if (dim < 0 || dim > Integer.MAX_VALUE) {
        throw in.error(dimLocation, "dimension " + dim + " is out of range");
      }
      dims[rank++] = (int) dim;
    }
    return Arrays.copyOf(dims, rank);
  }

  /** Refuses an array of {@code bytes} that the Java heap has no room for, before it is allocated. */
  private void reserve(String location, String what, long bytes) {
    if (!JavaHeap.fits(bytes)) {
      throw in.error(location, what + " " + JavaHeap.tooLarge(bytes));
    }
  }

  private long declaredCount(String location, int[] shape) {
    long count = Tensor.elementCount(shape);
    if (count < 0) {
      throw in.error(
          location,
          "shape " + Tensor.describeShape(shape) + " has more than " + Tensor.MAX_ELEMENTS
              + " values; split the activations into smaller batches");
    }
    if (count > maxValuesInFile) {
      throw in.error(
          location,
          "shape " + Tensor.describeShape(shape) + " declares " + count
              + " values, more than the file can hold");
    }
    return count;
  }

  /** Reads numbers, flattening nested arrays row-major as numpy's {@code tolist()} writes them. */
  private void readNumbers(String location, NumberSink values, int depth) {
    JsonParser p = in.parser();
    JsonToken token;
    while ((token = in.next(location)) != JsonToken.END_ARRAY) {
      switch (token) {
        case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
          try {
            if (values.asFloat) {
              values.add(p.getFloatValue());
            } else {
              values.add(p.getDoubleValue());
            }
          } catch (IOException e) {
            throw in.translate(location + "[" + values.size() + "]", e);
          }
        }
        case VALUE_STRING -> values.add(nonFinite(location + "[" + values.size() + "]"));
        case START_ARRAY -> {
          if (depth + 1 >= MAX_RANK) {
            throw in.error(location, "arrays nested deeper than " + MAX_RANK + " levels");
          }
          readNumbers(location, values, depth + 1);
        }
        default -> throw in.error(
            location + "[" + values.size() + "]", "expected a number, got " + describe(token));
      }
      if (values.size() > maxValuesInFile) {
        throw in.error(location, "more values than the file can hold");
      }
    }
  }

  private double nonFinite(String location) {
    String text = in.text(location);
    return switch (text) {
      case "NaN" -> Double.NaN;
      case "Infinity", "+Infinity" -> Double.POSITIVE_INFINITY;
      case "-Infinity" -> Double.NEGATIVE_INFINITY;
      default -> throw in.error(
          location, "expected a number or \"NaN\", \"Infinity\", \"-Infinity\", got \"" + abbreviate(text) + "\"");
    };
  }

  private byte[] readBase64(String location) {
    try {
      return in.parser().getBinaryValue(Base64Variants.MIME_NO_LINEFEEDS);
    } catch (IOException e) {
      throw in.translate(location, e);
    }
  }

  private long longValue(String location) {
    try {
      return in.parser().getLongValue();
    } catch (IOException e) {
      throw in.error(location, "integer out of range");
    }
  }

  String describe(JsonToken token) {
    return switch (token) {
      case START_OBJECT -> "an object";
      case START_ARRAY -> "an array";
      case VALUE_STRING -> "the string \"" + abbreviate(in.text("")) + "\"";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "the number " + abbreviate(in.text(""));
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      default -> token.asString() == null ? token.name() : token.asString();
    };
  }

  private static String abbreviate(String text) {
    return text.length() <= 40 ? text : text.substring(0, 37) + "...";
  }

  /** A growable primitive array of floats or doubles, each allocation checked against the heap. */
  private final class NumberSink {
    final boolean asFloat;
    private final String location;
    private float[] floats;
    private double[] doubles;
    private int size;

    NumberSink(String location, boolean asFloat, long expected) {
      this.location = location;
      this.asFloat = asFloat;
      int capacity = expected >= 0 ? (int) expected : 64;
      if (asFloat) {
        floats = new float[capacity];
      } else {
        doubles = new double[capacity];
      }
    }

    void add(double value) {
      if (asFloat) {
        if (size == floats.length) {
          floats = Arrays.copyOf(floats, grow(size, 4));
        }
        floats[size++] = (float) value;
      } else {
        if (size == doubles.length) {
          doubles = Arrays.copyOf(doubles, grow(size, 8));
        }
        doubles[size++] = value;
      }
    }

    void add(float value) {
      if (size == floats.length) {
        floats = Arrays.copyOf(floats, grow(size, 4));
      }
      floats[size++] = value;
    }

    int size() {
      return size;
    }

    float[] floats() {
      if (asFloat) {
        return size == floats.length ? floats : Arrays.copyOf(floats, size);
      }
      reserve(location, size + " values", size * 4L);
      float[] out = new float[size];
      for (int i = 0; i < size; i++) {
        out[i] = (float) doubles[i];
      }
      return out;
    }

    double[] doubles() {
      if (!asFloat) {
        return size == doubles.length ? doubles : Arrays.copyOf(doubles, size);
      }
      reserve(location, size + " values", size * 8L);
      double[] out = new double[size];
      for (int i = 0; i < size; i++) {
        out[i] = floats[i];
      }
      return out;
    }

    private int grow(int size, int width) {
      int next = (int) Math.min(Math.max(64L, (long) size * 2), Tensor.MAX_ELEMENTS);
      reserve(location, "more than " + size + " values", (long) next * width);
      return next;
    }
  }
}
