package dev.bncheck.load.pytorch;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.core.JsonFactory;
import dev.bncheck.load.InvalidInputException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code .safetensors} file: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian bytes. Every range is checked
 * against the file before anything is read.
 */
final class SafetensorsFile implements Closeable {

  private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8).build())
      .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build());

  private final String file;
  private final FileChannel channel;
  private final Map<String, TensorView> tensors;

  private SafetensorsFile(String file, FileChannel channel, Map<String, TensorView> tensors) {
    this.file = file;
    this.channel = channel;
    this.tensors = tensors;
  }

  /** The tensors in the header's order; their values are read on demand while the file is open. */
  Map<String, TensorView> tensors() {
    return tensors;
  }

  static SafetensorsFile open(Path path) {
    String file = path.toString();
    FileChannel channel;
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new InvalidInputException(file, "", "cannot read: " + e.getMessage(), e);
    }
    try {
      long size = channel.size();
      if (size < 8) {
        throw new InvalidInputException(file, "header length", "the file has " + size + " bytes, fewer than the"
            + " 8 of the header length");
      }
      long headerLength = read(file, channel, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      if (headerLength < 2 || headerLength > TorchLimits.MAX_SAFETENSORS_HEADER_BYTES || headerLength > size - 8) {
        throw new InvalidInputException(file, "header length", "declares " + Long.toUnsignedString(headerLength)
            + " bytes of header in a file of " + size + " bytes (at most " + TorchLimits.MAX_SAFETENSORS_HEADER_BYTES
            + " are read); truncated or not a safetensors file");
      }
      ByteBuffer header = read(file, channel, 8, (int) headerLength);
      JsonNode root;
      try {
        root = JSON.readTree(header.array(), header.arrayOffset() + header.position(), header.remaining());
      } catch (com.fasterxml.jackson.core.JacksonException e) {
        throw new InvalidInputException(file, "header", "not valid JSON: "
            + dev.bncheck.load.JacksonMessages.plain(e.getOriginalMessage()));
      }
      if (root == null || !root.isObject()) {
        throw new InvalidInputException(file, "header", "expected a JSON object");
      }
      SafetensorsFile st = new SafetensorsFile(file, channel, new LinkedHashMap<>());
      st.index(root, 8 + headerLength, size - 8 - headerLength);
      return st;
    } catch (IOException e) {
      closeQuietly(channel);
      throw new InvalidInputException(file, "", "cannot read: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  private void index(JsonNode root, long dataStart, long dataLength) {
    if (root.size() > TorchLimits.MAX_ENTRIES) {
      throw new InvalidInputException(file, "header", "more than " + TorchLimits.MAX_ENTRIES + " tensors");
    }
    List<Placed> placed = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      if (!e.getKey().equals("__metadata__")) {
        Placed tensor = tensor(e.getKey(), e.getValue(), dataStart, dataLength);
        tensors.put(e.getKey(), tensor.view());
        placed.add(tensor);
      }
    }
    // two tensors reading the same bytes: one of them would be read from the other's values
    List<Placed> nonEmpty = placed.stream().filter(t -> t.end() > t.begin())
        .sorted(Comparator.comparingLong(Placed::begin)).toList();
    for (int i = 1; i < nonEmpty.size(); i++) {
      if (nonEmpty.get(i).begin() < nonEmpty.get(i - 1).end()) {
        throw new InvalidInputException(file, "header: " + nonEmpty.get(i).name() + ".data_offsets",
            "overlaps the bytes of " + nonEmpty.get(i - 1).name());
      }
    }
  }

  /** A tensor of the header and the bytes [begin, end) of the data it reads. */
  private record Placed(String name, TensorView view, long begin, long end) {}

  private Placed tensor(String name, JsonNode info, long dataStart, long dataLength) {
    JsonNode dtype = info.get("dtype");
    JsonNode shape = info.get("shape");
    JsonNode offsets = info.get("data_offsets");
    if (!info.isObject() || dtype == null || !dtype.isTextual() || shape == null || !shape.isArray()
        || offsets == null || !offsets.isArray() || offsets.size() != 2) {
      throw new InvalidInputException(file, "header: " + name, "expected {\"dtype\": ..., \"shape\": [...],"
          + " \"data_offsets\": [begin, end]}");
    }
    TorchDtype type = TorchDtype.ofSafetensors(dtype.asText()).orElseThrow(() -> new InvalidInputException(file,
        "header: " + name + ".dtype", "'" + dtype.asText() + "' is not a dtype bncheck reads"));
    if (shape.size() > TorchLimits.MAX_RANK) {
      throw new InvalidInputException(file, "header: " + name + ".shape", "rank " + shape.size() + " exceeds "
          + TorchLimits.MAX_RANK);
    }
    long[] dims = new long[shape.size()];
    long[] strides = new long[dims.length];
    long elements = 1;
    for (int i = 0; i < dims.length; i++) {
      dims[i] = natural(shape.get(i), name + ".shape");
      elements = dims[i] == 0 || elements <= Long.MAX_VALUE / dims[i] ? elements * dims[i] : -1;
      if (elements < 0) {
        throw new InvalidInputException(file, "header: " + name + ".shape", "holds more values than a file can");
      }
    }
    for (int i = dims.length - 1, s = 1; i >= 0; i--) {
      strides[i] = s;
      s *= (int) Math.min(dims[i], Integer.MAX_VALUE);
    }
    long begin = natural(offsets.get(0), name + ".data_offsets");
    long end = natural(offsets.get(1), name + ".data_offsets");
    if (end < begin || end > dataLength) {
      throw new InvalidInputException(file, "header: " + name + ".data_offsets", "[" + begin + ", " + end + "] lies"
          + " outside the " + dataLength + " bytes of data the file holds");
    }
    if (elements > Long.MAX_VALUE / type.bytes()) {
      throw new InvalidInputException(file, "header: " + name + ".shape", shape + " of " + type.label()
          + " holds more bytes than a file can");
    }
    if (end - begin != elements * type.bytes()) {
      throw new InvalidInputException(file, "header: " + name + ".data_offsets", "spans " + (end - begin)
          + " bytes, but shape " + shape + " of " + type.label() + " needs " + elements * type.bytes());
    }
    StorageBytes bytes = new FileRange(dataStart + begin, end - begin);
    return new Placed(name, new TensorView(file, new Storage(file, type, elements, bytes, "tensor " + name), 0, dims,
        strides), begin, end);
  }

  private long natural(JsonNode n, String at) {
    if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
      throw new InvalidInputException(file, "header: " + at, "expected a non-negative integer, got " + n);
    }
    return n.asLong();
  }

  /** A range of the file's bytes. */
  private final class FileRange implements StorageBytes {
    private final long start;
    private final long length;

    FileRange(long start, long length) {
      this.start = start;
      this.length = length;
    }

    @Override
    public long length() {
      return length;
    }

    @Override
    public ByteBuffer read(long from, int count) {
      try {
        return SafetensorsFile.read(file, channel, start + from, count).order(ByteOrder.LITTLE_ENDIAN);
      } catch (IOException e) {
        throw new InvalidInputException(file, "", "cannot read: " + e.getMessage(), e);
      }
    }
  }

  private static ByteBuffer read(String file, FileChannel channel, long at, int count) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(count);
    while (buffer.hasRemaining()) {
      if (channel.read(buffer, at + buffer.position()) < 0) {
        throw new InvalidInputException(file, "", "ends at byte " + (at + buffer.position()) + ", before the "
            + (at + count) + " its header declares");
      }
    }
    return buffer.flip();
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // a file opened for reading loses nothing when its close fails
    }
  }
}
