package dev.bncheck.bench;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.dump.BnModelFromDump;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Reading JSON dumps: bncheck's dump reader (with the calibration accumulator as sink, as
 * {@code check} runs it, and with {@link CalibrationSink#NONE}, as {@code inspect} runs it) against
 * Jackson's own token scan of the same file, in MB/s of file read. Two dumps are generated: one
 * whose activations are {@code data} arrays of numbers, one whose activations are {@code base64}.
 */
public final class DumpBench {

  private record Dump(String name, boolean base64, int layers, int batches, int[] shape) {
    long values() {
      long v = (long) layers * batches;
      for (int d : shape) {
        v *= d;
      }
      return v;
    }
  }

  /** About 150 MB of JSON each: 6 x 4 x 524,288 numbers, and 8 x 4 x 1,048,576 float32 in base64. */
  private static final List<Dump> DUMPS = List.of(
      new Dump("numbers", false, 6, 4, new int[] {32, 16, 16, 64}),
      new Dump("base64", true, 8, 4, new int[] {64, 16, 16, 64}));

  /** A raw scan that accepts what bncheck accepts (non-numeric numbers, base64 strings of any length). */
  private static final JsonFactory JACKSON = JsonFactory.builder()
      .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
      .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
      .build();

  private DumpBench() {}

  public static void main(String[] args) throws Exception {
    int rounds = 7;
    int warmup = 2;
    Path work = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--work" -> work = Path.of(args[++i]);
        default -> {
          System.err.println("usage: DumpBench [--rounds N] [--warmup N] --work DIR");
          System.exit(2);
        }
      }
    }
    if (work == null) {
      System.err.println("DumpBench: --work DIR is required (it receives the generated dumps)");
      System.exit(2);
    }
    Files.createDirectories(work);
    System.out.printf(Locale.ROOT, "Dump loading benchmark, %s%n",
        ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    System.out.printf(Locale.ROOT, "Java %s (%s), %d processors, max heap %d MB, Jackson %s%n",
        System.getProperty("java.version"), System.getProperty("java.vm.name"),
        Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20,
        com.fasterxml.jackson.core.json.PackageVersion.VERSION);
    System.out.printf(Locale.ROOT, "%d rounds after %d warm-up rounds; medians over rounds%n", rounds, warmup);
    for (Dump dump : DUMPS) {
      Path file = work.resolve("bench-dump-" + dump.name() + ".json");
      if (!Files.isRegularFile(file)) {
        write(dump, file);
      }
      measure(dump, file, rounds, warmup);
    }
  }

  private static void measure(Dump dump, Path file, int rounds, int warmup) throws Exception {
    long bytes = Files.size(file);
    BnModelFromDump loader = new BnModelFromDump();
    // That the reader really reads every batch of every layer, before timing.
    CalibrationAccumulator check = new CalibrationAccumulator();
    BnModel model = loader.load(file, LoadOptions.DEFAULTS, check);
    for (int l = 0; l < dump.layers(); l++) {
      int batches = check.layer(l).orElseThrow().batches().size();
      if (batches != dump.batches()) {
        throw new IllegalStateException("layer " + l + ": " + batches + " batches read");
      }
    }
    List<Rounds.Method> methods = new ArrayList<>();
    methods.add(new Rounds.Method("bncheck dump reader, CalibrationAccumulator (check)",
        () -> loader.load(file, LoadOptions.DEFAULTS, new CalibrationAccumulator()).layers().size()));
    methods.add(new Rounds.Method("bncheck dump reader, CalibrationSink.NONE (inspect)",
        () -> loader.load(file, LoadOptions.DEFAULTS, CalibrationSink.NONE).layers().size()));
    methods.add(new Rounds.Method("Jackson nextToken() scan", () -> scan(file, false)));
    methods.add(new Rounds.Method(dump.base64() ? "Jackson scan + getBinaryValue() of each base64 string"
        : "Jackson scan + getFloatValue() of each number", () -> scan(file, true)));
    System.out.printf(Locale.ROOT, "%n### %s: %d layers x %d batches of float32 %s as %s, %,d values, file %.1f MB%n%n",
        dump.name(), dump.layers(), dump.batches(), java.util.Arrays.toString(dump.shape()),
        dump.base64() ? "base64" : "data arrays of numbers", dump.values(), bytes / 1e6);
    System.out.printf(Locale.ROOT, "Checked before timing: %d layers, %d batches each reached the accumulator%n",
        model.layers().size(), dump.batches());
    double[][] seconds = Rounds.seconds(methods, rounds, warmup);
    int raw = 2;
    int values = 3;
    System.out.println();
    System.out.println("| method | MB/s median | MB/s q1-q3 | time vs Jackson scan | time vs Jackson scan + values |");
    System.out.println("|---|---:|---:|---:|---:|");
    for (int i = 0; i < methods.size(); i++) {
      double[] mbps = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        mbps[r] = bytes / 1e6 / seconds[i][r];
      }
      System.out.printf(Locale.ROOT, "| %s | %.0f | %.0f-%.0f | %.2f | %.2f |%n", methods.get(i).name(),
          Rounds.quantile(mbps, 0.5), Rounds.quantile(mbps, 0.25), Rounds.quantile(mbps, 0.75),
          Rounds.medianRatio(seconds[i], seconds[raw]), Rounds.medianRatio(seconds[i], seconds[values]));
    }
    double vsRaw = Rounds.medianRatio(seconds[0], seconds[raw]);
    System.out.printf(Locale.ROOT, "%n%s target: check's reader takes %.2fx the time of Jackson's scan "
        + "(at most 2: %s)%n", dump.name(), vsRaw, vsRaw <= 2 ? "met" : "MISSED");
  }

  /** Every token to the end; with {@code values}, also every number as a float or every string as bytes. */
  private static double scan(Path file, boolean values) throws IOException {
    double kept = 0;
    try (JsonParser parser = JACKSON.createParser(file.toFile())) {
      JsonToken token;
      while ((token = parser.nextToken()) != null) {
        if (values) {
          if (token == JsonToken.VALUE_NUMBER_FLOAT || token == JsonToken.VALUE_NUMBER_INT) {
            kept += parser.getFloatValue();
          } else if (token == JsonToken.VALUE_STRING && "base64".equals(parser.currentName())) {
            kept += parser.getBinaryValue().length;
          }
        } else {
          kept += token.ordinal();
        }
      }
    }
    return kept;
  }

  /** Deterministic (seed 7): channel c has mean (c % 7) - 3 and standard deviation 0.5 + (c % 4) / 4. */
  private static void write(Dump dump, Path file) throws IOException {
    SplittableRandom random = new SplittableRandom(7);
    int channels = dump.shape()[dump.shape().length - 1];
    int perBatch = (int) (dump.values() / dump.layers() / dump.batches());
    Path partial = file.resolveSibling(file.getFileName() + ".tmp");
    try (JsonGenerator out = new JsonFactory().createGenerator(partial.toFile(), JsonEncoding.UTF8)) {
      out.writeStartObject();
      out.writeStringField("format", "bncheck-dump");
      out.writeNumberField("version", 1);
      out.writeObjectFieldStart("source");
      out.writeStringField("framework", "keras");
      out.writeStringField("model", "bench-" + dump.name());
      out.writeEndObject();
      out.writeArrayFieldStart("layers");
      for (int l = 0; l < dump.layers(); l++) {
        out.writeStartObject();
        out.writeStringField("name", "block" + l + "/bn");
        out.writeNumberField("channel_axis", -1);
        out.writeNumberField("epsilon", 1e-3);
        out.writeNumberField("momentum", 0.99);
        double[] mean = new double[channels];
        double[] variance = new double[channels];
        for (int c = 0; c < channels; c++) {
          mean[c] = (c % 7) - 3;
          variance[c] = Math.pow(0.5 + (c % 4) / 4.0, 2);
        }
        out.writeFieldName("moving_mean");
        out.writeArray(mean, 0, channels);
        out.writeFieldName("moving_variance");
        out.writeArray(variance, 0, channels);
        out.writeArrayFieldStart("inputs");
        for (int b = 0; b < dump.batches(); b++) {
          out.writeStartObject();
          out.writeStringField("dtype", "float32");
          out.writeFieldName("shape");
          out.writeArray(dump.shape(), 0, dump.shape().length);
          if (dump.base64()) {
            ByteBuffer buffer = ByteBuffer.allocate(4 * perBatch).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < perBatch; i++) {
              buffer.putFloat(value(i % channels, random));
            }
            out.writeStringField("base64", Base64.getEncoder().encodeToString(buffer.array()));
          } else {
            out.writeArrayFieldStart("data");
            for (int i = 0; i < perBatch; i++) {
              out.writeNumber(value(i % channels, random)); // Float.toString: shortest round-trip text
            }
            out.writeEndArray();
          }
          out.writeEndObject();
        }
        out.writeEndArray();
        out.writeEndObject();
      }
      out.writeEndArray();
      out.writeEndObject();
    }
    Files.move(partial, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  private static float value(int c, SplittableRandom random) {
    return (float) ((c % 7) - 3 + (0.5 + (c % 4) / 4.0) * random.nextGaussian());
  }
}
