package dev.bncheck.load.dump;

import com.fasterxml.jackson.core.JsonToken;
import dev.bncheck.load.RecordedConventions;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.MomentumConvention;
import dev.bncheck.model.Numbers;
import dev.bncheck.model.Tensor;
import dev.bncheck.model.UnresolvedLayer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Streams a bncheck dump (docs/dump-format.md), either as a model (parameters and optional
 * activations) or as calibration data for a model read before (activations only, layers matched
 * by name). Activations go to the sink as each batch is read and are not kept.
 */
final class DumpReader {

  static final String FORMAT = "bncheck-dump";
  static final int VERSION = 1;

  private static final List<String> LAYER_FIELDS =
      List.of(
          "name", "channel_axis", "epsilon", "momentum", "momentum_convention",
          "num_batches_tracked", "gamma", "beta", "moving_mean", "moving_variance", "inputs",
          "training_inputs");

  /**
   * The parameters a calibration dump is compared on with the model's: activations recorded from
   * another model, or another checkpoint of it, would be judged against statistics they never met.
   * Its epsilon and momentum are compared as well.
   */
  private static final List<String> RECORDED = List.of("moving_mean", "moving_variance", "gamma", "beta");

  /** The scalar conventions a calibration dump is compared on with the model's. */
  private static final List<String> RECORDED_CONVENTIONS = List.of("epsilon", "momentum", "momentum_convention");

  /**
   * What the dump supplies: a whole model, activations for a known model, or its layers'
   * conventions for the loader of a model whose file does not record them.
   */
  enum Mode {
    MODEL,
    CALIBRATION,
    CONVENTIONS
  }

  /** The vectors and counts a conventions read passes over, with the activations. */
  private static final List<String> NOT_CONVENTIONS =
      List.of("num_batches_tracked", "gamma", "beta", "moving_mean", "moving_variance", "inputs", "training_inputs");

  private final Path file;
  private final Mode mode;
  private final BnModel knownModel;
  private final CalibrationSink sink;

  private String format;
  private Integer version;
  private String framework;
  private String modelName;
  private final List<LayerFields> layers = new ArrayList<>();
  private final List<UnresolvedLayer> withoutStatistics = new ArrayList<>();
  private final Map<String, Integer> layerByName = new HashMap<>();

  DumpReader(Path file, Mode mode, BnModel knownModel, CalibrationSink sink) {
    this.file = file;
    this.mode = mode;
    this.knownModel = knownModel;
    this.sink = sink;
    if (knownModel != null) {
      for (int i = 0; i < knownModel.layers().size(); i++) {
        layerByName.put(knownModel.layers().get(i).name(), i);
      }
    }
  }

  /** Reads the whole file; in {@link Mode#MODEL} returns the model, otherwise null. */
  BnModel read() {
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (JsonInput in = new JsonInput(file)) {
      JsonTensorReader tensors = new JsonTensorReader(in, size);
      JsonToken first = in.next("");
      if (first != JsonToken.START_OBJECT) {
        throw in.error("", "expected a JSON object at the top level, got " + tensors.describe(first));
      }
      while (in.next("") != JsonToken.END_OBJECT) {
        String field = in.text("");
        JsonToken value = in.next(field);
        switch (field) {
          case "format" -> format = requireString(in, tensors, field, value);
          case "version" -> version = readVersion(in, tensors, value);
          case "source" -> readSource(in, tensors, value);
          case "layers" -> readLayers(in, tensors, value);
          // only a model read takes its layers from the dump; the others serve a model read before
          case "batch_statistics_layers" -> {
            if (mode == Mode.MODEL) {
              readBatchStatisticsLayers(in, tensors, value);
            } else {
              in.skipValue(field);
            }
          }
          default -> throw in.error(field, "unknown field; a dump has format, version, source, layers and"
              + " batch_statistics_layers");
        }
      }
      try {
        if (in.parser().nextToken() != null) {
          throw in.error("", "unexpected content after the end of the dump");
        }
      } catch (IOException e) {
        throw in.translate("", e);
      }
      if (!FORMAT.equals(format)) {
        throw in.error("format", format == null ? "missing; not a bncheck dump" : "is \"" + format + "\", expected \"" + FORMAT + "\"");
      }
      if (version == null) {
        throw in.error("version", "missing");
      }
      return mode == Mode.MODEL ? buildModel(in) : null;
    }
  }

  /** Reads the whole file in {@link Mode#CONVENTIONS}: each layer's recorded epsilon, momentum and axis. */
  RecordedConventions conventions() {
    read();
    Map<String, RecordedConventions.Layer> recorded = new HashMap<>();
    for (LayerFields f : layers) {
      recorded.put(f.name, f.conventions(framework));
    }
    return new RecordedConventions(file.toString(), recorded);
  }

  private int readVersion(JsonInput in, JsonTensorReader tensors, JsonToken value) {
    if (value != JsonToken.VALUE_NUMBER_INT) {
      throw in.error("version", "expected an integer, got " + tensors.describe(value));
    }
    String text = in.text("version");
    if (!String.valueOf(VERSION).equals(text)) {
      throw in.error("version", "version " + text + " is not supported; this bncheck reads version " + VERSION);
    }
    return VERSION;
  }

  private void readSource(JsonInput in, JsonTensorReader tensors, JsonToken value) {
    if (value != JsonToken.START_OBJECT) {
      throw in.error("source", "expected an object, got " + tensors.describe(value));
    }
    while (in.next("source") != JsonToken.END_OBJECT) {
      String key = in.text("source");
      JsonToken v = in.next("source." + key);
      if (v == JsonToken.VALUE_STRING && key.equals("framework")) {
        framework = in.text("source.framework");
      } else if (v == JsonToken.VALUE_STRING && key.equals("model")) {
        modelName = in.text("source.model");
      } else {
        in.skipValue("source." + key);
      }
    }
  }

  private void readLayers(JsonInput in, JsonTensorReader tensors, JsonToken value) {
    if (value != JsonToken.START_ARRAY) {
      throw in.error("layers", "expected an array of layers, got " + tensors.describe(value));
    }
    JsonToken token;
    while ((token = in.next("layers")) != JsonToken.END_ARRAY) {
      String location = "layers[" + layers.size() + "]";
      if (token != JsonToken.START_OBJECT) {
        throw in.error(location, "expected a layer object, got " + tensors.describe(token));
      }
      LayerFields layer = new LayerFields(location, mode == Mode.MODEL ? layers.size() : -1);
      layers.add(layer);
      readLayer(in, tensors, layer);
      layer.requireComplete(in);
      layer.flushPending(in);
    }
  }

  /**
   * The layers that keep no running statistics, so normalize with each batch's own at inference:
   * nothing to analyse, yet BN002 reports them, so they are read as unresolved layers in training
   * mode rather than left out of the dump.
   */
  private void readBatchStatisticsLayers(JsonInput in, JsonTensorReader tensors, JsonToken value) {
    String field = "batch_statistics_layers";
    if (value != JsonToken.START_ARRAY) {
      throw in.error(field, "expected an array of layers, got " + tensors.describe(value));
    }
    JsonToken token;
    while ((token = in.next(field)) != JsonToken.END_ARRAY) {
      String location = field + "[" + withoutStatistics.size() + "]";
      if (token != JsonToken.START_OBJECT) {
        throw in.error(location, "expected a layer object {\"name\", \"reason\"}, got " + tensors.describe(token));
      }
      String name = null;
      String reason = null;
      while (in.next(location) != JsonToken.END_OBJECT) {
        String key = in.text(location);
        String at = location + "." + key;
        JsonToken v = in.next(at);
        switch (key) {
          case "name" -> name = requireNonEmpty(in, at, requireString(in, tensors, at, v), "empty layer name");
          case "reason" -> reason = requireNonEmpty(in, at, requireString(in, tensors, at, v),
              "empty; say why the layer keeps no running statistics, e.g. \"track_running_stats=False\"");
          default -> throw in.error(at, "unknown field; a layer without running statistics has name and reason");
        }
      }
      if (name == null || reason == null) {
        throw in.error(location, "missing field \"" + (name == null ? "name" : "reason") + "\"");
      }
      withoutStatistics.add(UnresolvedLayer.withoutRunningStatistics(name, location, reason));
    }
  }

  private static String requireNonEmpty(JsonInput in, String at, String value, String problem) {
    if (value.isEmpty()) {
      throw in.error(at, problem);
    }
    return value;
  }

  private void readLayer(JsonInput in, JsonTensorReader tensors, LayerFields layer) {
    String location = layer.location;
    while (in.next(location) != JsonToken.END_OBJECT) {
      String field = in.text(location);
      String at = location + "." + field;
      JsonToken value = in.next(at);
      boolean parameter = !field.equals("name") && !field.equals("inputs") && !field.equals("training_inputs")
          && !field.equals("channel_axis");
      if ((mode == Mode.CALIBRATION && parameter && LAYER_FIELDS.contains(field) && !RECORDED.contains(field)
          && !RECORDED_CONVENTIONS.contains(field))
          || (mode == Mode.CONVENTIONS && NOT_CONVENTIONS.contains(field))) {
        in.skipValue(at);
        continue;
      }
      switch (field) {
        case "name" -> layer.setName(in, requireString(in, tensors, at, value));
        case "channel_axis" -> layer.channelAxis = (int) requireInteger(in, tensors, at, value, -8, 7);
        case "epsilon" -> layer.epsilon = requireNumber(in, tensors, at, value);
        case "momentum" -> layer.momentum = requireNumber(in, tensors, at, value);
        case "momentum_convention" -> {
          String name = requireString(in, tensors, at, value);
          layer.convention = MomentumConvention.fromJsonName(name);
          if (layer.convention == null) {
            throw in.error(at, "expected \"pytorch\" or \"keras\", got \"" + name + "\"");
          }
        }
        case "num_batches_tracked" -> layer.numBatchesTracked = requireInteger(in, tensors, at, value, 0, Long.MAX_VALUE);
        case "gamma" -> layer.gamma = readVector(in, tensors, at);
        case "beta" -> layer.beta = readVector(in, tensors, at);
        case "moving_mean" -> layer.movingMean = readVector(in, tensors, at);
        case "moving_variance" -> layer.movingVariance = readVector(in, tensors, at);
        case "inputs" -> readInputs(in, tensors, layer, at, value, false);
        case "training_inputs" -> readInputs(in, tensors, layer, at, value, true);
        default -> throw in.error(at, "unknown field; a layer has " + String.join(", ", LAYER_FIELDS));
      }
    }
  }

  /** @param trainingView whether the batches are the training view's ({@code training_inputs}) */
  private void readInputs(JsonInput in, JsonTensorReader tensors, LayerFields layer, String at, JsonToken value,
      boolean trainingView) {
    if (!sink.wantsActivations()) {
      in.skipValue(at);
      return;
    }
    if (value == JsonToken.START_OBJECT) {
      layer.addBatch(in, new Batch(at, tensors.read(at, false), trainingView));
      return;
    }
    if (value != JsonToken.START_ARRAY) {
      throw in.error(at, "expected a tensor or an array of tensors, got " + tensors.describe(value));
    }
    int index = 0;
    while (in.next(at) != JsonToken.END_ARRAY) {
      String batchAt = at + "[" + index++ + "]";
      layer.addBatch(in, new Batch(batchAt, tensors.read(batchAt, false), trainingView));
    }
  }

  private double[] readVector(JsonInput in, JsonTensorReader tensors, String at) {
    Tensor t = tensors.read(at, true);
    if (t.shape().length != 1) {
      throw in.error(at, "expected a 1-D tensor of one value per channel, got shape " + Tensor.describeShape(t.shape()));
    }
    double[] values = new double[t.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = t.get(i);
    }
    return values;
  }

  private static String requireString(JsonInput in, JsonTensorReader tensors, String at, JsonToken value) {
    if (value != JsonToken.VALUE_STRING) {
      throw in.error(at, "expected a string, got " + tensors.describe(value));
    }
    return in.text(at);
  }

  private static double requireNumber(JsonInput in, JsonTensorReader tensors, String at, JsonToken value) {
    try {
      if (value == JsonToken.VALUE_NUMBER_INT || value == JsonToken.VALUE_NUMBER_FLOAT) {
        return in.parser().getDoubleValue();
      }
    } catch (IOException e) {
      throw in.translate(at, e);
    }
    if (value == JsonToken.VALUE_STRING) {
      switch (in.text(at)) {
        case "NaN" -> {
          return Double.NaN;
        }
        case "Infinity" -> {
          return Double.POSITIVE_INFINITY;
        }
        case "-Infinity" -> {
          return Double.NEGATIVE_INFINITY;
        }
        default -> {
          // any other string is not a number: the error below
        }
      }
    }
    throw in.error(at, "expected a number, got " + tensors.describe(value));
  }

  private static long requireInteger(JsonInput in, JsonTensorReader tensors, String at, JsonToken value, long min, long max) {
    if (value != JsonToken.VALUE_NUMBER_INT) {
      throw in.error(at, "expected an integer, got " + tensors.describe(value));
    }
    long v;
    try {
      v = in.parser().getLongValue();
    } catch (IOException e) {
      throw in.error(at, "integer out of range");
    }
    if (v < min || v > max) {
      throw in.error(at, v + " is out of range [" + min + ", " + max + "]");
    }
    return v;
  }

  private BnModel buildModel(JsonInput in) {
    List<BnLayer> built = new ArrayList<>(layers.size());
    Map<String, String> locationOf = new HashMap<>();
    for (LayerFields f : layers) {
      built.add(f.build(in, framework));
      locationOf.put(f.name, f.location);
    }
    // checked once all is read: the two lists may come in either order
    for (UnresolvedLayer u : withoutStatistics) {
      String other = locationOf.putIfAbsent(u.name(), u.node());
      if (other != null) {
        throw in.error(u.node() + ".name", "duplicate layer name \"" + u.name() + "\" (also " + other + ")");
      }
    }
    return new BnModel(file.toString(), FORMAT + " v" + VERSION, framework, modelName, built, withoutStatistics);
  }

  /** A batch of activations as read, with where it stands in the dump and which view it belongs to. */
  private record Batch(String at, Tensor tensor, boolean trainingView) {}

  /** The fields of one layer as they arrive, in whatever order the writer chose. */
  private final class LayerFields {
    final String location;
    int index;
    String name;
    Integer channelAxis;
    Double epsilon;
    Double momentum;
    MomentumConvention convention;
    Long numBatchesTracked;
    double[] gamma;
    double[] beta;
    double[] movingMean;
    double[] movingVariance;
    /** Batches read before the fields needed to check them; JSON does not fix key order. */
    final List<Batch> pending = new ArrayList<>();
    /**
     * Where the first batch of each view stands and its shape (not the batch: the layers stay in
     * memory to the end), and the batches of each, to check the views against each other.
     */
    String firstInputAt;
    int[] firstInputShape;
    String firstTrainingAt;
    int[] firstTrainingShape;
    int inputBatches;
    int trainingBatches;

    LayerFields(String location, int index) {
      this.location = location;
      this.index = index;
    }

    void setName(JsonInput in, String value) {
      name = value;
      String at = location + ".name";
      if (value.isEmpty()) {
        throw in.error(at, "empty layer name");
      }
      for (LayerFields other : layers) {
        if (other != this && value.equals(other.name)) {
          throw in.error(at, "duplicate layer name \"" + value + "\" (also " + other.location + ")");
        }
      }
      if (mode == Mode.CALIBRATION) {
        Integer known = layerByName.get(value);
        if (known == null) {
          throw in.error(at, "no BN layer named \"" + value + "\" in " + knownModel.location() + knownNames());
        }
        index = known;
      }
    }

    /** The model's layer names, so that a dump written for another model, or naming nested layers otherwise, shows at once. */
    private String knownNames() {
      List<String> names = knownModel.layers().stream().map(BnLayer::name).toList();
      int shown = Math.min(names.size(), 8);
      return " (its BN layers: " + (names.isEmpty() ? "none" : String.join(", ", names.subList(0, shown))
          + (names.size() > shown ? ", and " + (names.size() - shown) + " more" : "")) + ")";
    }

    private RuntimeException mismatchedAxis(JsonInput in) {
      BnLayer model = knownModel.layers().get(index);
      return in.error(
          location + ".channel_axis",
          channelAxis + " differs from the model's channel axis " + model.channelAxis() + " for layer \"" + name + "\"");
    }

    int channels() {
      return mode == Mode.MODEL ? movingMean.length : knownModel.layers().get(index).channels();
    }

    int axis() {
      return mode == Mode.MODEL ? channelAxis : knownModel.layers().get(index).channelAxis();
    }

    boolean readyForBatches() {
      return mode == Mode.MODEL ? channelAxis != null && movingMean != null : index >= 0;
    }

    void addBatch(JsonInput in, Batch batch) {
      if (batch.trainingView()) {
        if (batch.tensor().shape().length >= 2 && batch.tensor().shape()[0] == 1) {
          throw in.error(batch.at(), "a batch of one sample: training mode would normalize it with its own"
              + " statistics, which training, on batches, never did; leave such batches out of the training view");
        }
        if (trainingBatches++ == 0) {
          firstTrainingAt = batch.at();
          firstTrainingShape = batch.tensor().shape();
        }
      } else if (inputBatches++ == 0) {
        firstInputAt = batch.at();
        firstInputShape = batch.tensor().shape();
      }
      if (readyForBatches()) {
        deliver(in, batch);
      } else {
        pending.add(batch);
      }
    }

    void flushPending(JsonInput in) {
      for (Batch batch : pending) {
        deliver(in, batch);
      }
      pending.clear();
    }

    private void deliver(JsonInput in, Batch read) {
      String at = read.at();
      Tensor batch = read.tensor();
      int[] shape = batch.shape();
      if (shape.length < 2 || shape.length > 5) {
        throw in.error(at, "a rank-" + shape.length + " tensor; activations have rank 2 to 5");
      }
      int axis = axis() < 0 ? axis() + shape.length : axis();
      if (axis < 0 || axis >= shape.length) {
        throw in.error(at, "channel_axis " + axis() + " is out of range for a rank-" + shape.length + " tensor");
      }
      // the dump's own axis names the same one when it counts from the other end (3 and -1 in NHWC)
      if (mode == Mode.CALIBRATION && channelAxis != null
          && (channelAxis < 0 ? channelAxis + shape.length : channelAxis) != axis) {
        throw mismatchedAxis(in);
      }
      if (shape[axis] != channels()) {
        throw in.error(at, "channel axis " + axis + " has " + shape[axis] + " channels, layer has " + channels());
      }
      if (batch.size() == 0) {
        throw in.error(at, "empty batch " + Tensor.describeShape(shape));
      }
      sink.progress("layers read", index, -1);
      if (read.trainingView()) {
        sink.acceptTrainingView(index, batch, axis);
      } else {
        sink.accept(index, batch, axis);
      }
    }

    void requireComplete(JsonInput in) {
      if (name == null) {
        throw in.error(location, "missing field \"name\"");
      }
      requireTrainingViewOfTheInputs(in);
      if (mode == Mode.CALIBRATION) {
        requireRecordedFromTheModel(in);
        return;
      }
      if (mode == Mode.CONVENTIONS) {
        return;
      }
      for (var required : List.of(
          Map.entry("channel_axis", channelAxis != null),
          Map.entry("epsilon", epsilon != null),
          Map.entry("moving_mean", movingMean != null),
          Map.entry("moving_variance", movingVariance != null))) {
        if (!required.getValue()) {
          throw in.error(location, "missing field \"" + required.getKey() + "\"");
        }
      }
      int c = movingMean.length;
      if (c == 0) {
        throw in.error(location + ".moving_mean", "no channels");
      }
      requireLength(in, "moving_variance", movingVariance, c);
      requireLength(in, "gamma", gamma, c);
      requireLength(in, "beta", beta, c);
    }

    /**
     * The training view is taken on some or all of the batches {@code inputs} holds, so it has
     * no more batches than they, and its samples have the same shape: a view of other data would
     * be judged in place of the data given.
     */
    private void requireTrainingViewOfTheInputs(JsonInput in) {
      if (trainingBatches == 0) {
        return;
      }
      String at = location + ".training_inputs";
      if (inputBatches == 0) {
        throw in.error(at, "a training view without \"inputs\": it is taken on the calibration batches the"
            + " layer's inputs hold");
      }
      if (trainingBatches > inputBatches) {
        throw in.error(at, trainingBatches + " batches, more than the " + inputBatches + " of \"inputs\": the training"
            + " view is taken on some or all of the same batches");
      }
      int[] training = firstTrainingShape;
      int[] inference = firstInputShape;
      if (training.length != inference.length
          || !Arrays.equals(training, 1, training.length, inference, 1, inference.length)) {
        throw in.error(firstTrainingAt, "shape " + Tensor.describeShape(training) + ", but " + firstInputAt
            + " has " + Tensor.describeShape(inference) + ": a sample of the training view has the shape of a sample"
            + " of the inputs");
      }
    }

    /**
     * The parameters the dump recorded equal the model's, to float32 precision (the exporters write
     * float32 values; a decimal written and read back may differ in the last bits).
     */
    private void requireRecordedFromTheModel(JsonInput in) {
      BnLayer model = knownModel.layers().get(index);
      requireConventionsOfTheModel(in, model);
      double[][] recorded = {movingMean, movingVariance, gamma, beta};
      double[][] own = {model.movingMean(), model.movingVariance(), model.gamma(), model.beta()};
      for (int k = 0; k < recorded.length; k++) {
        double[] values = recorded[k];
        // a gamma or beta the model does not hold (center or scale off, or not recorded) is not compared
        if (values == null || (k == 2 && !model.hasGamma()) || (k == 3 && !model.hasBeta())) {
          continue;
        }
        String field = RECORDED.get(k);
        requireLength(in, field, values, own[k].length);
        for (int c = 0; c < values.length; c++) {
          double a = values[c];
          double b = own[k][c];
          boolean same = a == b || (Double.isNaN(a) && Double.isNaN(b))
              || Math.abs(a - b) <= 1e-5 * Math.max(Math.abs(a), Math.abs(b)) + 1e-7;
          if (!same) {
            throw in.error(location + "." + field, String.format(java.util.Locale.ROOT, "differs from the model's %s"
                + " in channel %d (%s in the dump, %s in %s): the activations were recorded from another model, or"
                + " another checkpoint of it; record them from this one", field, c,
                Numbers.brief(a), Numbers.brief(b), knownModel.location()));
          }
        }
      }
    }

    /**
     * The epsilon and momentum the dump recorded are the model's: the exporters read them from the
     * running model, and a model given others (by its file, --epsilon or --momentum) would be judged
     * with conventions its activations never met. A momentum is compared in the model's convention,
     * and only where both state one.
     */
    private void requireConventionsOfTheModel(JsonInput in, BnLayer model) {
      if (epsilon != null && !sameFloat32(epsilon, model.epsilon())) {
        throw conventionMismatch(in, "epsilon", epsilon, model.epsilon());
      }
      MomentumConvention stated = statedConvention(framework);
      if (momentum != null && stated != null && model.momentum().isPresent()) {
        double decay = stated.decay(momentum);
        double own = model.momentumConvention().decay(model.momentum().getAsDouble());
        if (!sameFloat32(decay, own)) {
          throw conventionMismatch(in, "momentum", momentum, model.momentum().getAsDouble());
        }
      }
    }

    private RuntimeException conventionMismatch(JsonInput in, String field, double recorded, double own) {
      return in.error(location + "." + field, String.format(java.util.Locale.ROOT, "%s in the dump, %s for the"
          + " model's layer \"%s\": the activations were recorded from another model, or the model was given"
          + " another %s (by %s, --epsilon/--momentum or a config) than it ran with", Numbers.brief(recorded),
          Numbers.brief(own), name, field, knownModel.location()));
    }

    private static boolean sameFloat32(double a, double b) {
      return a == b || Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b)) + 1e-12;
    }

    private void requireLength(JsonInput in, String field, double[] values, int channels) {
      if (values != null && values.length != channels) {
        throw in.error(location + "." + field, "expected " + channels + " values, got " + values.length);
      }
    }

    /**
     * What this layer recorded of its conventions. A momentum whose convention neither the layer nor
     * the source's framework states is no evidence, and without it the epsilon is not taken either:
     * a loader would otherwise read the layer as keeping a cumulative average.
     */
    RecordedConventions.Layer conventions(String sourceFramework) {
      MomentumConvention effective = statedConvention(sourceFramework);
      boolean complete = epsilon != null && (momentum == null || effective != null);
      OptionalDouble m = complete && momentum != null ? OptionalDouble.of(momentum) : OptionalDouble.empty();
      return new RecordedConventions.Layer(
          complete ? OptionalDouble.of(epsilon) : OptionalDouble.empty(),
          m,
          m.isPresent() ? effective : null,
          channelAxis == null ? OptionalInt.empty() : OptionalInt.of(channelAxis));
    }

    /** This layer's momentum convention: its own, else the one its source's framework implies; null if neither. */
    private MomentumConvention statedConvention(String sourceFramework) {
      return convention != null ? convention : MomentumConvention.impliedBy(sourceFramework);
    }

    BnLayer build(JsonInput in, String sourceFramework) {
      if (momentum == null && convention != null) {
        throw in.error(location + ".momentum_convention", "given without \"momentum\"");
      }
      MomentumConvention effective = statedConvention(sourceFramework);
      if (momentum != null && effective == null) {
        throw in.error(
            location + ".momentum",
            "\"momentum_convention\" is missing and source.framework does not imply one;"
                + " add \"momentum_convention\": \"pytorch\" or \"keras\"");
      }
      return BnLayer.builder(name, location).channelAxis(channelAxis).epsilon(epsilon)
          .momentum(momentum == null ? OptionalDouble.empty() : OptionalDouble.of(momentum), effective)
          .numBatchesTracked(numBatchesTracked == null ? OptionalLong.empty() : OptionalLong.of(numBatchesTracked))
          .gamma(gamma).beta(beta).statistics(movingMean, movingVariance).build();
    }
  }
}
