package dev.bncheck.load.dump;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.DumpBuilder;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.RecordedConventions;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.MomentumConvention;
import dev.bncheck.model.Tensor;
import dev.bncheck.model.UnresolvedLayer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DumpReaderTest {

  @TempDir Path dir;

  /** Remembers every batch the loader streams. */
  static final class RecordingSink implements CalibrationSink {
    final List<Integer> layers = new ArrayList<>();
    final List<Tensor> batches = new ArrayList<>();
    final List<Integer> axes = new ArrayList<>();

    @Override
    public boolean wantsActivations() {
      return true;
    }

    final List<Tensor> trainingView = new ArrayList<>();

    @Override
    public void accept(int layerIndex, Tensor batch, int channelAxis) {
      layers.add(layerIndex);
      batches.add(batch);
      axes.add(channelAxis);
    }

    @Override
    public void acceptTrainingView(int layerIndex, Tensor batch, int channelAxis) {
      trainingView.add(batch);
    }
  }

  private Path write(String json) throws IOException {
    return Files.writeString(dir.resolve("dump.json"), json);
  }

  private BnModel load(String json, CalibrationSink sink) throws IOException {
    return new BnModelFromDump().load(write(json), sink);
  }

  private static String layerJson(String extra) {
    return "{\"format\":\"bncheck-dump\",\"version\":1,\"layers\":[{\"name\":\"bn\",\"channel_axis\":1,"
        + "\"epsilon\":1e-3,\"moving_mean\":[0.5,1.5],\"moving_variance\":[2,3]" + extra + "}]}";
  }

  @Test
  void readsEveryFieldOfALayer() throws IOException {
    BnModel model = load(
        "{\"format\":\"bncheck-dump\",\"version\":1,\"source\":{\"framework\":\"pytorch\",\"model\":\"resnet\","
            + "\"extra\":{\"a\":[1]}},\"layers\":[{\"name\":\"layer1.bn\",\"channel_axis\":-1,\"epsilon\":1e-5,"
            + "\"momentum\":0.1,\"momentum_convention\":\"pytorch\",\"num_batches_tracked\":1200,"
            + "\"gamma\":{\"dtype\":\"float32\",\"shape\":[2],\"data\":[1.5,\"NaN\"]},"
            + "\"beta\":{\"dtype\":\"float64\",\"shape\":[2],\"data\":[[0.25],[\"-Infinity\"]]},"
            + "\"moving_mean\":[0.5,1.5],\"moving_variance\":[2,Infinity]}]}",
        CalibrationSink.NONE);
    assertThat(model.framework()).isEqualTo("pytorch");
    assertThat(model.modelName()).isEqualTo("resnet");
    assertThat(model.format()).isEqualTo("bncheck-dump v1");
    BnLayer layer = model.layers().get(0);
    assertThat(layer.name()).isEqualTo("layer1.bn");
    assertThat(layer.origin()).isEqualTo("layers[0]");
    assertThat(layer.channelAxis()).isEqualTo(-1);
    assertThat(layer.epsilon()).isEqualTo(1e-5);
    assertThat(layer.momentum().getAsDouble()).isEqualTo(0.1);
    assertThat(layer.momentumConvention()).isEqualTo(MomentumConvention.PYTORCH);
    assertThat(layer.numBatchesTracked().getAsLong()).isEqualTo(1200);
    assertThat(layer.gamma()).containsExactly(1.5, Double.NaN);
    assertThat(layer.beta()).containsExactly(0.25, Double.NEGATIVE_INFINITY);
    assertThat(layer.movingMean()).containsExactly(0.5, 1.5);
    assertThat(layer.movingVariance()).containsExactly(2.0, Double.POSITIVE_INFINITY);
    assertThat(layer.hasGamma()).isTrue();
    assertThat(model.unresolved()).isEmpty();
  }

  @Test
  void layersWithoutRunningStatisticsAreUnresolvedLayersInTrainingModeWhereverTheyCome() throws IOException {
    String without = "\"batch_statistics_layers\":[{\"reason\":\"track_running_stats=False\",\"name\":\"head.bn\"},"
        + "{\"name\":\"tail.bn\",\"reason\":\"use_running_average=False\"}]";
    BnModel after = load(layerJson("").replace("}]}", "}]," + without + "}"), CalibrationSink.NONE);
    BnModel before = load(layerJson("").replace("\"layers\"", without + ",\"layers\""), CalibrationSink.NONE);
    for (BnModel model : List.of(after, before)) {
      assertThat(model.layers()).extracting(BnLayer::name).containsExactly("bn");
      assertThat(model.unresolved()).containsExactly(
          new UnresolvedLayer("head.bn", "batch_statistics_layers[0]", UnresolvedLayer.WITHOUT_RUNNING_STATISTICS,
              "track_running_stats=False", true),
          new UnresolvedLayer("tail.bn", "batch_statistics_layers[1]", UnresolvedLayer.WITHOUT_RUNNING_STATISTICS,
              "use_running_average=False", true));
      assertThat(model.unresolved()).allMatch(UnresolvedLayer::keepsNoRunningStatistics);
    }
    BnModel alone = load("{\"format\":\"bncheck-dump\",\"version\":1,\"layers\":[]," + without + "}",
        CalibrationSink.NONE);
    assertThat(alone.layers()).isEmpty();
    assertThat(alone.unresolved()).hasSize(2);
  }

  /** Read as calibration data, the dump's activations count; which layers the model has, its own file says. */
  @Test
  void calibrationPassesOverLayersWithoutRunningStatistics() throws IOException {
    Path modelFile = new DumpBuilder().layer("a").movingMean(0, 0).movingVariance(1, 1).up()
        .withoutRunningStatistics("b", "track_running_stats=False").writeTo(dir.resolve("model.json"));
    BnModel model = new BnModelFromDump().load(modelFile, CalibrationSink.NONE);
    assertThat(model.unresolved()).extracting(UnresolvedLayer::name).containsExactly("b");
    Path data = Files.writeString(dir.resolve("data.json"), "{\"format\":\"bncheck-dump\",\"version\":1,"
        + "\"batch_statistics_layers\":[{\"name\":\"b\",\"reason\":\"track_running_stats=False\"}],"
        + "\"layers\":[{\"name\":\"a\",\"inputs\":[{\"dtype\":\"float32\",\"shape\":[1,2],\"data\":[1,2]}]}]}");
    RecordingSink sink = new RecordingSink();
    new CalibrationFromDump().load(data, model, sink);
    assertThat(sink.layers).containsExactly(0);
  }

  @Test
  void absentGammaAndBetaMeanOneAndZero() throws IOException {
    BnLayer layer = load(layerJson(""), CalibrationSink.NONE).layers().get(0);
    assertThat(layer.gamma()).containsExactly(1.0, 1.0);
    assertThat(layer.beta()).containsExactly(0.0, 0.0);
    assertThat(layer.hasGamma()).isFalse();
    assertThat(layer.hasBeta()).isFalse();
    assertThat(layer.momentum()).isEmpty();
  }

  @Test
  void momentumConventionFollowsTheDeclaredFramework() throws IOException {
    String json = layerJson(",\"momentum\":0.99").replace("\"version\":1,", "\"version\":1,\"source\":{\"framework\":\"keras\"},");
    assertThat(load(json, CalibrationSink.NONE).layers().get(0).momentumConvention())
        .isEqualTo(MomentumConvention.KERAS);
  }

  @Test
  void streamsBase64AndDataBatchesToTheSinkWithTheResolvedAxis() throws IOException {
    ByteBuffer bytes = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(new float[] {1, 2, 3, 4});
    String b64 = Base64.getEncoder().encodeToString(bytes.array());
    RecordingSink sink = new RecordingSink();
    load(layerJson(",\"inputs\":[{\"dtype\":\"float32\",\"shape\":[2,2],\"base64\":\"" + b64 + "\"},"
        + "{\"dtype\":\"float64\",\"shape\":[1,2,1],\"data\":[5,6]}]"), sink);
    assertThat(sink.layers).containsExactly(0, 0);
    assertThat(sink.axes).containsExactly(1, 1);
    assertThat(((Tensor.Float32) sink.batches.get(0)).data()).containsExactly(1f, 2f, 3f, 4f);
    assertThat(((Tensor.Float64) sink.batches.get(1)).data()).containsExactly(5.0, 6.0);
  }

  @Test
  void trainingInputsGoToTheSinkAsTheTrainingViewInWhateverOrderTheFieldsCome() throws IOException {
    RecordingSink sink = new RecordingSink();
    load("{\"format\":\"bncheck-dump\",\"version\":1,\"layers\":[{\"training_inputs\":[{\"dtype\":\"float32\","
        + "\"shape\":[2,2],\"data\":[7,8,9,10]}],\"name\":\"bn\",\"channel_axis\":1,\"epsilon\":1e-3,"
        + "\"moving_mean\":[0,0],\"moving_variance\":[1,1],\"inputs\":{\"dtype\":\"float32\",\"shape\":[1,2],"
        + "\"data\":[1,2]}}]}", sink);
    assertThat(sink.batches).hasSize(1);
    assertThat(((Tensor.Float32) sink.batches.get(0)).data()).containsExactly(1f, 2f);
    assertThat(sink.trainingView).hasSize(1);
    assertThat(((Tensor.Float32) sink.trainingView.get(0)).data()).containsExactly(7f, 8f, 9f, 10f);
  }

  /** gamma decoded from the given base64 text, or the one-line error. */
  private String gammaFromBase64(String text) throws IOException {
    try {
      return Arrays.toString(load(layerJson(",\"gamma\":{\"dtype\":\"float32\",\"shape\":[2],\"base64\":\""
          + text + "\"}"), CalibrationSink.NONE).layers().get(0).gamma());
    } catch (InvalidInputException e) {
      return e.getMessage();
    }
  }

  @Test
  void base64IsStandardWithPaddingAndMayHoldWhitespace() throws IOException {
    // 1.5f and -2f, little-endian
    String plain = "AADAPwAAAMA=";
    assertThat(gammaFromBase64(plain)).isEqualTo("[1.5, -2.0]");
    assertThat(gammaFromBase64("AADA PwAAAMA=")).isEqualTo("[1.5, -2.0]");
    assertThat(gammaFromBase64("AADAPwAAAMA")).contains("layers[0].gamma.base64").contains("expects padding");
    assertThat(gammaFromBase64("AADAPwAA*MA=")).contains("layers[0].gamma.base64").contains("'*'");
    assertThat(gammaFromBase64("AADAPwAAAMA\u00e9")).contains("layers[0].gamma.base64");
  }

  @Test
  void acceptsASingleInputTensorAndInputsBeforeTheParameters() throws IOException {
    RecordingSink sink = new RecordingSink();
    load("{\"layers\":[{\"inputs\":{\"dtype\":\"float32\",\"data\":[1,2,3,4,5,6],\"shape\":[3,2]},"
        + "\"name\":\"bn\",\"channel_axis\":-1,\"epsilon\":1e-3,\"moving_mean\":[0,0],\"moving_variance\":[1,1]}],"
        + "\"version\":1,\"format\":\"bncheck-dump\"}", sink);
    assertThat(sink.axes).containsExactly(1);
    assertThat(((Tensor.Float32) sink.batches.get(0)).data()).containsExactly(1f, 2f, 3f, 4f, 5f, 6f);
  }

  @Test
  void inspectSkipsActivationsWithoutReadingThem() throws IOException {
    BnModel model = load(layerJson(",\"inputs\":[{\"dtype\":\"float32\",\"shape\":[2,3],\"data\":[1]}]"),
        CalibrationSink.NONE);
    assertThat(model.layers()).hasSize(1);
  }

  @Test
  void calibrationFileMatchesLayersByNameAndChecksTheirConventions() throws IOException {
    Path modelFile = new DumpBuilder().layer("a").movingMean(0, 0).movingVariance(1, 1).up()
        .layer("b").channelAxis(-1).movingMean(0, 0, 0).movingVariance(1, 1, 1).up()
        .writeTo(dir.resolve("model.json"));
    BnModel model = new BnModelFromDump().load(modelFile, CalibrationSink.NONE);
    String layer = "{\"format\":\"bncheck-dump\",\"version\":1,\"layers\":[{\"name\":\"b\",\"epsilon\":EPS,"
        + "\"num_batches_tracked\":7,\"inputs\":[{\"dtype\":\"float32\",\"shape\":[1,3],\"data\":[1,2,3]}]}]}";
    Path data = Files.writeString(dir.resolve("data.json"), layer.replace("EPS", "0.001"));
    RecordingSink sink = new RecordingSink();
    new CalibrationFromDump().load(data, model, sink);
    assertThat(sink.layers).containsExactly(1);
    assertThat(sink.axes).containsExactly(1);
    Path other = Files.writeString(dir.resolve("other.json"), layer.replace("EPS", "5"));
    assertThatThrownBy(() -> new CalibrationFromDump().load(other, model, new RecordingSink()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(other + ": layers[0].epsilon: 5 in the dump, 0.001 for the model's layer \"b\"");
  }

  static Stream<Arguments> invalidDumps() {
    String ok = layerJson("");
    return Stream.of(
        Arguments.of("{\"format\":\"bncheck-dump\"", "unexpected end of file (truncated?)"),
        Arguments.of("{\"format\":\"bncheck-dump\",]", "malformed JSON at line 1, column 26: Unexpected character (']' (code 93)): was expecting double-quote to start field name"),
        Arguments.of("[1,2]", "expected a JSON object at the top level, got an array"),
        Arguments.of("{\"format\":\"onnx\",\"version\":1,\"layers\":[]}", "format: is \"onnx\", expected \"bncheck-dump\""),
        Arguments.of("{\"version\":1,\"layers\":[]}", "format: missing; not a bncheck dump"),
        Arguments.of("{\"format\":\"bncheck-dump\",\"version\":2,\"layers\":[]}", "version: version 2 is not supported; this bncheck reads version 1"),
        Arguments.of("{\"format\":\"bncheck-dump\",\"version\":1,\"layer\":[]}", "layer: unknown field; a dump has format, version, source, layers and batch_statistics_layers"),
        Arguments.of(ok.replace("\"moving_mean\":[0.5,1.5],", ""), "layers[0]: missing field \"moving_mean\""),
        Arguments.of(ok.replace("[2,3]", "[2]"), "layers[0].moving_variance: expected 2 values, got 1"),
        Arguments.of(ok.replace("\"epsilon\":1e-3", "\"epsilon\":\"small\""), "layers[0].epsilon: expected a number, got the string \"small\""),
        Arguments.of(ok.replace("\"epsilon\"", "\"eps\""), "layers[0].eps: unknown field; a layer has name, channel_axis, epsilon, momentum, momentum_convention, num_batches_tracked, gamma, beta, moving_mean, moving_variance, inputs, training_inputs"),
        Arguments.of(layerJson(",\"momentum\":0.1"), "layers[0].momentum: \"momentum_convention\" is missing and source.framework does not imply one; add \"momentum_convention\": \"pytorch\" or \"keras\""),
        Arguments.of(layerJson(",\"momentum\":0.1,\"momentum_convention\":\"caffe\""), "layers[0].momentum_convention: expected \"pytorch\" or \"keras\", got \"caffe\""),
        Arguments.of(layerJson(",\"gamma\":{\"dtype\":\"int8\",\"shape\":[2],\"data\":[1,2]}"), "layers[0].gamma.dtype: expected \"float32\" or \"float64\", got the string \"int8\""),
        Arguments.of(layerJson(",\"gamma\":{\"dtype\":\"float32\",\"shape\":[3],\"data\":[1,2]}"), "layers[0].gamma.data: shape [3] needs 3 values, got 2"),
        Arguments.of(layerJson(",\"gamma\":{\"dtype\":\"float32\",\"shape\":[2],\"data\":[1,\"one\"]}"), "layers[0].gamma.data[1]: expected a number or \"NaN\", \"Infinity\", \"-Infinity\", got \"one\""),
        Arguments.of(layerJson(",\"gamma\":{\"dtype\":\"float32\",\"shape\":[2],\"base64\":\"AAAAAA==\"}"), "layers[0].gamma.base64: shape [2] needs 8 bytes of float32, got 4"),
        Arguments.of(layerJson(",\"gamma\":{\"dtype\":\"float32\",\"shape\":[1,2],\"data\":[1,2]}"), "layers[0].gamma: expected a 1-D tensor of one value per channel, got shape [1, 2]"),
        Arguments.of(layerJson(",\"gamma\":{\"dtype\":\"float32\",\"shape\":[2],\"data\":[1,2],\"base64\":\"\"}"), "layers[0].gamma: tensor needs exactly one of \"data\" and \"base64\""),
        Arguments.of(layerJson(",\"inputs\":[{\"dtype\":\"float32\",\"shape\":[100000,100000],\"data\":[]}]"), "layers[0].inputs[0]: shape [100000, 100000] has more than 2147483639 values; split the activations into smaller batches"),
        Arguments.of(layerJson(",\"inputs\":[{\"dtype\":\"float32\",\"shape\":[1000,1000],\"data\":[]}]"), "layers[0].inputs[0]: shape [1000, 1000] declares 1000000 values, more than the file can hold"),
        Arguments.of(layerJson(",\"inputs\":[{\"dtype\":\"float32\",\"shape\":[1,3],\"data\":[1,2,3]}]"), "layers[0].inputs[0]: channel axis 1 has 3 channels, layer has 2"),
        Arguments.of(layerJson(",\"inputs\":[{\"dtype\":\"float32\",\"shape\":[2],\"data\":[1,2]}]"), "layers[0].inputs[0]: a rank-1 tensor; activations have rank 2 to 5"),
        Arguments.of(layerJson(",\"training_inputs\":[{\"dtype\":\"float32\",\"shape\":[2,2],\"data\":[1,2,3,4]},{\"dtype\":\"float32\",\"shape\":[2,3],\"data\":[1,2,3,4,5,6]}]"), "layers[0].training_inputs[1]: channel axis 1 has 3 channels, layer has 2"),
        Arguments.of(layerJson(",\"training_inputs\":[" + batch(2, 2) + "]"), "layers[0].training_inputs: a training view without \"inputs\": it is taken on the calibration batches the layer's inputs hold"),
        Arguments.of(layerJson(",\"inputs\":[" + batch(2, 2) + "],\"training_inputs\":[" + batch(2, 2) + "," + batch(2, 2) + "]"), "layers[0].training_inputs: 2 batches, more than the 1 of \"inputs\": the training view is taken on some or all of the same batches"),
        Arguments.of(layerJson(",\"training_inputs\":[" + batch(2, 2, 1) + "],\"inputs\":[" + batch(2, 2) + "]"), "layers[0].training_inputs[0]: shape [2, 2, 1], but layers[0].inputs[0] has [2, 2]: a sample of the training view has the shape of a sample of the inputs"),
        Arguments.of(layerJson(",\"inputs\":[" + batch(2, 2) + "],\"training_inputs\":[" + batch(1, 2) + "]"), "layers[0].training_inputs[0]: a batch of one sample: training mode would normalize it with its own statistics, which training, on batches, never did; leave such batches out of the training view"),
        Arguments.of(layerJson(",\"training_inputs\":7"), "layers[0].training_inputs: expected a tensor or an array of tensors, got the number 7"),
        Arguments.of(layerJson(",\"inputs\":[{\"dtype\":\"float32\",\"shape\":[0,2],\"data\":[]}]"), "layers[0].inputs[0]: empty batch [0, 2]"),
        Arguments.of(layerJson(",\"inputs\":[[1,2]]"), "layers[0].inputs[0]: expected a tensor object {\"dtype\", \"shape\", \"data\" or \"base64\"}, got an array"),
        Arguments.of(layerJson("").replace("\"channel_axis\":1", "\"channel_axis\":4") .replace("}]}", ",\"inputs\":[{\"dtype\":\"float32\",\"shape\":[1,2],\"data\":[1,2]}]}]}"), "layers[0].inputs[0]: channel_axis 4 is out of range for a rank-2 tensor"),
        Arguments.of("{\"format\":\"bncheck-dump\",\"version\":1,\"layers\":[" + layerBody("a") + "," + layerBody("a") + "]}", "layers[1].name: duplicate layer name \"a\" (also layers[0])"),
        Arguments.of(withoutStatistics("{\"name\":\"a\"}"), "batch_statistics_layers[0]: missing field \"reason\""),
        Arguments.of(withoutStatistics("{\"reason\":\"track_running_stats=False\"}"), "batch_statistics_layers[0]: missing field \"name\""),
        Arguments.of(withoutStatistics("{\"name\":7,\"reason\":\"x\"}"), "batch_statistics_layers[0].name: expected a string, got the number 7"),
        Arguments.of(withoutStatistics("{\"name\":\"\",\"reason\":\"x\"}"), "batch_statistics_layers[0].name: empty layer name"),
        Arguments.of(withoutStatistics("{\"name\":\"a\",\"reason\":false}"), "batch_statistics_layers[0].reason: expected a string, got a boolean"),
        Arguments.of(withoutStatistics("{\"name\":\"a\",\"reason\":\"\"}"), "batch_statistics_layers[0].reason: empty; say why the layer keeps no running statistics, e.g. \"track_running_stats=False\""),
        Arguments.of(withoutStatistics("{\"name\":\"a\",\"reason\":\"x\",\"epsilon\":1e-5}"), "batch_statistics_layers[0].epsilon: unknown field; a layer without running statistics has name and reason"),
        Arguments.of(withoutStatistics("\"a\""), "batch_statistics_layers[0]: expected a layer object {\"name\", \"reason\"}, got the string \"a\""),
        Arguments.of(ok.replace("}]}", "}],\"batch_statistics_layers\":{\"name\":\"a\"}}"), "batch_statistics_layers: expected an array of layers, got an object"),
        Arguments.of(withoutStatistics("{\"name\":\"bn\",\"reason\":\"x\"}"), "batch_statistics_layers[0].name: duplicate layer name \"bn\" (also layers[0])"),
        Arguments.of(withoutStatistics("{\"name\":\"a\",\"reason\":\"x\"},{\"name\":\"a\",\"reason\":\"y\"}"), "batch_statistics_layers[1].name: duplicate layer name \"a\" (also batch_statistics_layers[0])"),
        Arguments.of(ok + "{}", "unexpected content after the end of the dump"),
        Arguments.of(layerJson("").replace("\"version\":1", "\"version\":1,\"version\":1"), "malformed JSON at line 1, column 47: Duplicate field 'version'"));
  }

  /** The one-layer dump with these entries in batch_statistics_layers. */
  private static String withoutStatistics(String entries) {
    return layerJson("").replace("}]}", "}],\"batch_statistics_layers\":[" + entries + "]}");
  }

  /** A float32 batch of this shape, every value 1. */
  private static String batch(int... shape) {
    int n = java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    return "{\"dtype\":\"float32\",\"shape\":" + java.util.Arrays.toString(shape).replace(" ", "") + ",\"data\":["
        + String.join(",", java.util.Collections.nCopies(n, "1")) + "]}";
  }

  private static String layerBody(String name) {
    return "{\"name\":\"" + name + "\",\"channel_axis\":1,\"epsilon\":1e-3,\"moving_mean\":[0],\"moving_variance\":[1]}";
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("invalidDumps")
  void invalidDumpGivesOneLineNamingFileAndField(String json, String expected) throws IOException {
    Path file = write(json);
    assertThatThrownBy(() -> new BnModelFromDump().load(file, new RecordingSink()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(file + ": " + expected);
  }

  /**
   * A conventions read takes what each layer states and passes over its vectors and activations;
   * a momentum whose convention nothing states is no evidence, and neither is its epsilon then.
   */
  @Test
  void conventionsAreReadPerLayerAndAMomentumOfUnknownConventionIsNotTaken() throws IOException {
    Path file = write("{\"format\":\"bncheck-dump\",\"version\":1,\"layers\":["
        + "{\"name\":\"a\",\"channel_axis\":1,\"epsilon\":1e-3,\"momentum\":0.99,\"momentum_convention\":\"keras\","
        + "\"moving_mean\":[0],\"inputs\":[{\"dtype\":\"float32\",\"shape\":[1,1],\"data\":[1]}]},"
        + "{\"name\":\"b\",\"epsilon\":1e-5},"
        + "{\"name\":\"c\",\"channel_axis\":-1,\"epsilon\":1e-5,\"momentum\":0.1},"
        + "{\"name\":\"d\",\"channel_axis\":3}]}");
    RecordedConventions recorded = new CalibrationFromDump().conventions(file);
    assertThat(recorded.source()).isEqualTo(file.toString());
    RecordedConventions.Layer a = recorded.bnConventions("a").orElseThrow();
    assertThat(a.epsilon()).hasValue(1e-3);
    assertThat(a.momentumIn(MomentumConvention.KERAS)).hasValue(0.99);
    assertThat(a.momentumIn(MomentumConvention.PYTORCH).getAsDouble()).isCloseTo(0.01, within(1e-12));
    assertThat(recorded.channelAxis("a")).hasValue(1);
    RecordedConventions.Layer b = recorded.bnConventions("b").orElseThrow();
    assertThat(b.momentum()).isEmpty();
    assertThat(recorded.channelAxis("b")).isEmpty();
    assertThat(recorded.bnConventions("c")).isEmpty();
    assertThat(recorded.channelAxis("c")).hasValue(-1);
    assertThat(recorded.bnConventions("d")).isEmpty();
    assertThat(recorded.channelAxis("d")).hasValue(3);
    assertThat(recorded.bnConventions("e")).isEmpty();
  }

  @Test
  void unknownCalibrationLayerIsNamed() throws IOException {
    Path modelFile = new DumpBuilder().layer("a").movingMean(0).movingVariance(1).up().writeTo(dir.resolve("m.json"));
    BnModel model = new BnModelFromDump().load(modelFile, CalibrationSink.NONE);
    Path data = Files.writeString(dir.resolve("d.json"),
        "{\"format\":\"bncheck-dump\",\"version\":1,\"layers\":[{\"name\":\"z\",\"inputs\":[]}]}");
    assertThatThrownBy(() -> new CalibrationFromDump().load(data, model, new RecordingSink()))
        .hasMessage(data + ": layers[0].name: no BN layer named \"z\" in " + modelFile + " (its BN layers: a)");
  }
}
