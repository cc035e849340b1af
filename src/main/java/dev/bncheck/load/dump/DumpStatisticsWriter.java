package dev.bncheck.load.dump;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.model.Numbers;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.Map;

/**
 * Copies a dump token by token, replacing the moving statistics of some layers: everything else,
 * the activations included, stays as it was. Layers are addressed by position, since a layer's
 * name may come after its statistics in the object.
 */
public final class DumpStatisticsWriter {

  /** New statistics for one layer. */
  public record Statistics(double[] mean, double[] variance) {}

  private DumpStatisticsWriter() {}

  public static void write(Path input, Map<Integer, Statistics> byLayer, Writer out) throws IOException {
    JsonFactory factory = new JsonFactory();
    try (JsonParser p = factory.createParser(input.toFile()); JsonGenerator g = factory.createGenerator(out)) {
      g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new InvalidInputException(input.toString(), "", "not a bncheck dump");
      }
      g.writeStartObject();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        p.nextToken();
        g.writeFieldName(field);
        if (field.equals("layers") && p.currentToken() == JsonToken.START_ARRAY) {
          g.writeStartArray();
          int index = 0;
          while (p.nextToken() == JsonToken.START_OBJECT) {
            copyLayer(p, g, byLayer.get(index++));
          }
          g.writeEndArray();
        } else {
          g.copyCurrentStructure(p);
        }
      }
      g.writeEndObject();
    }
    out.write('\n');
  }

  private static void copyLayer(JsonParser p, JsonGenerator g, Statistics replacement) throws IOException {
    g.writeStartObject();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      g.writeFieldName(field);
      if (replacement != null && (field.equals("moving_mean") || field.equals("moving_variance"))) {
        p.skipChildren();
        vector(g, field.equals("moving_mean") ? replacement.mean() : replacement.variance());
      } else {
        g.copyCurrentStructure(p);
      }
    }
    g.writeEndObject();
  }

  /** float64 with 17 significant digits, so the values read back exactly. */
  private static void vector(JsonGenerator g, double[] values) throws IOException {
    g.writeStartObject();
    g.writeStringField("dtype", "float64");
    g.writeArrayFieldStart("shape");
    g.writeNumber(values.length);
    g.writeEndArray();
    g.writeArrayFieldStart("data");
    for (double v : values) {
      if (Double.isFinite(v)) {
        g.writeNumber(Numbers.format(v, 17));
      } else {
        g.writeString(Numbers.format(v, 17));
      }
    }
    g.writeEndArray();
    g.writeEndObject();
  }
}
