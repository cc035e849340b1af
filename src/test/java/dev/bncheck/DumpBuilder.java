package dev.bncheck;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import dev.bncheck.model.Numbers;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes bncheck dumps for tests and samples: parameters as readable number arrays (nine
 * significant digits, enough to round-trip float32), activations as base64 float32.
 */
public final class DumpBuilder {

  private final Map<String, String> source = new LinkedHashMap<>();
  private final List<Layer> layers = new ArrayList<>();
  private final Map<String, String> withoutRunningStatistics = new LinkedHashMap<>();

  public DumpBuilder source(String key, String value) {
    source.put(key, value);
    return this;
  }

  public Layer layer(String name) {
    Layer layer = new Layer(name);
    layers.add(layer);
    return layer;
  }

  /** A layer that keeps no running statistics, listed in batch_statistics_layers with the reason given. */
  public DumpBuilder withoutRunningStatistics(String name, String reason) {
    withoutRunningStatistics.put(name, reason);
    return this;
  }

  /** One layer; fields left unset are omitted from the dump. */
  public final class Layer {
    final String name;
    Integer channelAxis = 1;
    Double epsilon = 1e-3;
    Double momentum;
    String convention;
    Long numBatchesTracked;
    float[] gamma;
    float[] beta;
    float[] movingMean;
    float[] movingVariance;
    final List<Map.Entry<int[], float[]>> inputs = new ArrayList<>();

    Layer(String name) {
      this.name = name;
    }

    public Layer channelAxis(Integer axis) {
      channelAxis = axis;
      return this;
    }

    public Layer epsilon(Double eps) {
      epsilon = eps;
      return this;
    }

    public Layer momentum(double m, String momentumConvention) {
      momentum = m;
      convention = momentumConvention;
      return this;
    }

    public Layer numBatchesTracked(long n) {
      numBatchesTracked = n;
      return this;
    }

    public Layer gamma(float... values) {
      gamma = values;
      return this;
    }

    public Layer beta(float... values) {
      beta = values;
      return this;
    }

    public Layer movingMean(float... values) {
      movingMean = values;
      return this;
    }

    public Layer movingVariance(float... values) {
      movingVariance = values;
      return this;
    }

    public Layer input(int[] shape, float[] data) {
      inputs.add(Map.entry(shape, data));
      return this;
    }

    /** Back to the dump, to add another layer. */
    public DumpBuilder up() {
      return DumpBuilder.this;
    }
  }

  public String toJson() {
    try {
      StringWriter out = new StringWriter();
      DefaultPrettyPrinter pretty = new DefaultPrettyPrinter()
          .withObjectIndenter(new DefaultIndenter("  ", "\n"))
          .withArrayIndenter(new DefaultPrettyPrinter.FixedSpaceIndenter());
      try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
        g.setPrettyPrinter(pretty);
        g.writeStartObject();
        g.writeStringField("format", "bncheck-dump");
        g.writeNumberField("version", 1);
        if (!source.isEmpty()) {
          g.writeObjectFieldStart("source");
          for (var e : source.entrySet()) {
            g.writeStringField(e.getKey(), e.getValue());
          }
          g.writeEndObject();
        }
        g.writeArrayFieldStart("layers");
        for (Layer l : layers) {
          writeLayer(g, l);
        }
        g.writeEndArray();
        if (!withoutRunningStatistics.isEmpty()) {
          g.writeArrayFieldStart("batch_statistics_layers");
          for (var e : withoutRunningStatistics.entrySet()) {
            g.writeStartObject();
            g.writeStringField("name", e.getKey());
            g.writeStringField("reason", e.getValue());
            g.writeEndObject();
          }
          g.writeEndArray();
        }
        g.writeEndObject();
      }
      return out.toString() + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path writeTo(Path file) {
    try {
      Files.writeString(file, toJson());
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writeLayer(JsonGenerator g, Layer l) throws IOException {
    g.writeStartObject();
    g.writeStringField("name", l.name);
    if (l.channelAxis != null) {
      g.writeNumberField("channel_axis", l.channelAxis);
    }
    if (l.epsilon != null) {
      g.writeFieldName("epsilon");
      g.writeNumber(Numbers.format(l.epsilon, 9));
    }
    if (l.momentum != null) {
      g.writeFieldName("momentum");
      g.writeNumber(Numbers.format(l.momentum, 9));
      if (l.convention != null) {
        g.writeStringField("momentum_convention", l.convention);
      }
    }
    if (l.numBatchesTracked != null) {
      g.writeNumberField("num_batches_tracked", l.numBatchesTracked);
    }
    vector(g, "gamma", l.gamma);
    vector(g, "beta", l.beta);
    vector(g, "moving_mean", l.movingMean);
    vector(g, "moving_variance", l.movingVariance);
    if (!l.inputs.isEmpty()) {
      g.writeArrayFieldStart("inputs");
      for (var input : l.inputs) {
        g.writeStartObject();
        g.writeStringField("dtype", "float32");
        g.writeFieldName("shape");
        g.writeArray(input.getKey(), 0, input.getKey().length);
        ByteBuffer bytes = ByteBuffer.allocate(input.getValue().length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(input.getValue());
        g.writeStringField("base64", Base64.getEncoder().encodeToString(bytes.array()));
        g.writeEndObject();
      }
      g.writeEndArray();
    }
    g.writeEndObject();
  }

  private static void vector(JsonGenerator g, String name, float[] values) throws IOException {
    if (values == null) {
      return;
    }
    g.writeObjectFieldStart(name);
    g.writeStringField("dtype", "float32");
    g.writeFieldName("shape");
    g.writeArray(new int[] {values.length}, 0, 1);
    g.writeArrayFieldStart("data");
    for (float v : values) {
      if (Float.isFinite(v)) {
        g.writeNumber(Numbers.format(v, 9));
      } else {
        g.writeString(Numbers.format(v, 9));
      }
    }
    g.writeEndArray();
    g.writeEndObject();
  }
}
