package dev.bncheck.load.tensorflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.load.JavaHeap;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The BatchNormalization configs Keras 2 stores in a SavedModel: in {@code keras_metadata.pb}
 * (TF 2.5 and later) or in the object graph of {@code saved_model.pb} (earlier). They carry what
 * the graph does not: the layer's momentum. Both files are protobuf messages whose layer
 * metadata are JSON strings; rather than depend on Keras' proto definitions, every
 * length-delimited field is searched for such strings.
 */
final class KerasMetadata {

  /** A BatchNormalization layer's config. */
  record BnConfig(String name, OptionalDouble momentum, OptionalDouble epsilon) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final byte[] MARKER = "\"BatchNormalization\"".getBytes(StandardCharsets.UTF_8);
  private static final int MAX_DEPTH = 12;

  /** Protobuf messages cannot exceed 2 GB; a larger file is not metadata. */
  private static final long MAX_SIZE = Integer.MAX_VALUE - 8;

  private KerasMetadata() {}

  /** The configs by layer name; empty when the model carries none (Keras 3, TF1). */
  static Map<String, BnConfig> read(Path savedModelDirectory) {
    Map<String, BnConfig> out = new HashMap<>();
    for (String file : new String[] {"keras_metadata.pb", "saved_model.pb"}) {
      Path path = savedModelDirectory.resolve(file);
      if (Files.isRegularFile(path)) {
        try {
          long size = Files.size(path);
          // A file too large to be metadata, or to fit in memory, counts as unreadable.
          if (size <= MAX_SIZE && JavaHeap.fits(size)) {
            byte[] bytes = Files.readAllBytes(path);
            scan(bytes, 0, bytes.length, 0, out);
          }
        } catch (IOException e) {
          // Metadata only adds the momentum; a model without readable metadata is analysed without it.
        }
      }
      if (!out.isEmpty()) {
        break;
      }
    }
    return out;
  }

  private static void scan(byte[] b, int from, int to, int depth, Map<String, BnConfig> out) {
    int i = from;
    while (i < to) {
      long[] tag = varint(b, i, to);
      if (tag == null) {
        return;
      }
      i = (int) tag[1];
      int wireType = (int) (tag[0] & 7);
      switch (wireType) {
        case 0 -> {
          long[] v = varint(b, i, to);
          if (v == null) {
            return;
          }
          i = (int) v[1];
        }
        case 1, 5 -> {
          int width = wireType == 1 ? 8 : 4;
          if (to - i < width) {
            return;
          }
          i += width;
        }
        case 2 -> {
          long[] length = varint(b, i, to);
          // Compared with the bytes left, not added to the position: a length near 2^63 wraps around.
          if (length == null || length[0] < 0 || length[0] > to - length[1]) {
            return;
          }
          int start = (int) length[1];
          int end = start + (int) length[0];
          if (end > start && b[start] == '{') {
            if (contains(b, start, end, MARKER)) {
              parse(new String(b, start, end - start, StandardCharsets.UTF_8), out);
            }
          } else if (depth < MAX_DEPTH && contains(b, start, end, MARKER)) {
            scan(b, start, end, depth + 1, out);
          }
          i = end;
        }
        default -> {
          return;
        }
      }
    }
  }

  private static void parse(String json, Map<String, BnConfig> out) {
    try {
      JsonNode node = JSON.readTree(json);
      if (!"BatchNormalization".equals(node.path("class_name").asText())) {
        return;
      }
      JsonNode config = node.path("config");
      String name = config.path("name").asText(node.path("name").asText());
      if (name.isEmpty()) {
        return;
      }
      out.put(name, new BnConfig(name, number(config.path("momentum")), number(config.path("epsilon"))));
    } catch (IOException e) {
      // Not the JSON we look for.
    }
  }

  private static OptionalDouble number(JsonNode node) {
    return node.isNumber() ? OptionalDouble.of(node.asDouble()) : OptionalDouble.empty();
  }

  private static boolean contains(byte[] b, int from, int to, byte[] needle) {
    outer:
    for (int i = from; i <= to - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (b[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /** {value, next position}, or null when the varint runs past the end. */
  private static long[] varint(byte[] b, int i, int to) {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (i >= to) {
        return null;
      }
      byte x = b[i++];
      value |= (long) (x & 0x7f) << shift;
      if ((x & 0x80) == 0) {
        return new long[] {value, i};
      }
    }
    return null;
  }
}
