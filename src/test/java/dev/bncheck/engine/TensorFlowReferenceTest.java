package dev.bncheck.engine;

import static dev.bncheck.engine.AllClose.assertAllClose;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.ThirdPartyFixtures;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pins the engine and its ND4J reference to TensorFlow's own batch normalization, run on the
 * same inputs, from the {@code tf-bn-reference} fixtures (see their NOTICE.md).
 *
 * <p>Fixture layout: {@code <node>.<output>.prediction[_inbw].csv} holds one value per line (8
 * decimals), {@code .shape} beside it one dimension per line; a node name's {@code /} is
 * written {@code ____}. The text GraphDef {@code frozen_graph.pbtxt} says which constant feeds
 * which input and carries epsilon and data_format.
 */
class TensorFlowReferenceTest {

  private static Path requireFixture(String relative) {
    return ThirdPartyFixtures.require("tf-bn-reference/" + relative);
  }

  // ---- FusedBatchNormV3, is_training = true

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"float32_nhwc", "float32_nhcw"})
  void batchStatisticsAndTrainingOutputMatchTensorFlowFusedBatchNormV3(String name) {
    Path dir = requireFixture("fused_batch_norm/" + name);
    Node bn = GraphText.read(dir.resolve("frozen_graph.pbtxt")).single("FusedBatchNormV3");
    assertThat(bn.attribute("is_training")).as("fixture runs training mode").contains("true");
    // FusedBatchNormV3's inputs are x, scale, offset, mean, variance; the last two are empty in
    // training mode. The "nhcw" fixture is, despite its name, an NHWC graph (its data_format
    // says so) on the same input: it runs as NHWC.
    Tensor x = readFloat32(dir, bn.inputs().get(0));
    double[] gamma = readInput(dir, bn.inputs().get(1));
    double[] beta = readInput(dir, bn.inputs().get(2));
    double epsilon = Double.parseDouble(bn.attribute("epsilon").orElseThrow());
    int axis = channelAxis(bn.attribute("data_format").orElseThrow(), x.shape().length);

    double[] tfY = Csv.values(dir.resolve("FusedBatchNormV3.prediction.csv"));
    double[] tfMean = Csv.values(dir.resolve("FusedBatchNormV3.1.prediction.csv"));
    double[] tfVariance = Csv.values(dir.resolve("FusedBatchNormV3.2.prediction.csv"));
    assertThat(Csv.shape(dir.resolve("FusedBatchNormV3.prediction.shape"))).containsExactly(x.shape());
    assertThat(gamma).hasSize(x.shape()[axis]);

    ChannelMoments moments = MomentsKernel.compute(x, axis);
    assertAllClose(name + " kernel mean vs TF batch mean", moments.mean(), tfMean,
        Tolerances.TF_FLOAT32_ABSOLUTE, Tolerances.TF_FLOAT32_RELATIVE);
    // TF's batch_variance output is Bessel-corrected (divisor n - 1), as fed to moving averages.
    assertAllClose(name + " kernel unbiased variance vs TF batch variance", TestData.unbiasedVariances(moments), tfVariance,
        Tolerances.TF_FLOAT32_ABSOLUTE, Tolerances.TF_FLOAT32_RELATIVE);
    long n = moments.count()[0];
    for (int c = 0; c < tfVariance.length; c++) {
      assertThat(Math.abs(moments.biasedVariance(c) - tfVariance[c]))
          .as("%s channel %d: the biased variance (n = %d) must not pass for TF's output 2", name, c, n)
          .isGreaterThan(100 * (Tolerances.TF_FLOAT32_ABSOLUTE + Tolerances.TF_FLOAT32_RELATIVE * tfVariance[c]));
    }

    Nd4jBatchNorm.Moments reference = Nd4jBatchNorm.moments(x, axis);
    assertAllClose(name + " ND4J mean vs TF", reference.mean(), tfMean,
        Tolerances.TF_FLOAT32_ABSOLUTE, Tolerances.TF_FLOAT32_RELATIVE);
    assertAllClose(name + " ND4J unbiased variance vs TF", reference.unbiasedVariance(), tfVariance,
        Tolerances.TF_FLOAT32_ABSOLUTE, Tolerances.TF_FLOAT32_RELATIVE);

    // Training-mode y normalizes with the biased variance even though output 2 is unbiased.
    double[] y = Nd4jBatchNorm.trainingMode(x, axis, gamma, beta, epsilon);
    assertAllClose(name + " ND4J training-mode y vs TF y", y, tfY,
        Tolerances.TF_FLOAT32_ABSOLUTE, Tolerances.TF_FLOAT32_RELATIVE);
  }

  // ---- tf.layers.batch_normalization, inference mode

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "rank2_batch2_sz5_fused",
      "rank2_batch3_sz5_fused_m50_e01",
      "rank2_batch4_sz5_noFused",
      "rank2_batch4_sz5_noFused_m50e01",
      "rank3_ncw_batch2_sz5_fused",
      "rank3_ncw_batch3_sz5_fused_m50_e01",
      "rank3_ncw_batch4_sz5_noFused",
      "rank3_ncw_batch4_sz5_noFused_m50e01",
      "rank3_nwc_batch2_sz5_fused",
      "rank3_nwc_batch3_sz5_fused_m50_e01",
      "rank3_nwc_batch4_sz5_noFused",
      "rank3_nwc_batch4_sz5_noFused_m50e01",
      "rank4_nchw_batch2_sz5_fused",
      "rank4_nchw_batch3_sz5_fused_m50_e01",
      "rank4_nchw_batch4_sz5_noFused",
      "rank4_nchw_batch4_sz5_noFused_m50e01",
      "rank4_nhwc_batch2_sz5_fused",
      "rank4_nhwc_batch3_sz5_fused_m50_e01",
      "rank4_nhwc_batch4_sz5_noFused",
      "rank4_nhwc_batch4_sz5_noFused_m50e01"})
  void inferenceOutputMatchesTensorFlowBatchNormalization(String name) {
    Path dir = requireFixture("batchnorm/" + name);
    GraphText graph = GraphText.read(dir.resolve("frozen_graph.pbtxt"));
    Tensor x = readFloat32(dir, "in_0");
    int rank = x.shape().length;
    // Rank-4 "fused" graphs hold one FusedBatchNorm (V1) op with the layout and epsilon as
    // attributes; the others spell BN out (batchnorm/add/y is epsilon, added before Rsqrt) and
    // state the layout only through the case name and their Reshape nodes.
    Optional<Node> fused = graph.find("FusedBatchNorm");
    double epsilon;
    int axis;
    if (fused.isPresent()) {
      epsilon = Double.parseDouble(fused.get().attribute("epsilon").orElseThrow());
      axis = channelAxis(fused.get().attribute("data_format").orElseThrow(), rank);
    } else {
      epsilon = Double.parseDouble(graph.named("batch_normalization/batchnorm/add/y").floatValue().orElseThrow());
      axis = name.contains("_nc") ? 1 : rank - 1;
    }
    assertThat(axis).as("layout from the case name").isEqualTo(name.contains("_nc") ? 1 : rank - 1);
    assertThat(epsilon).as("epsilon from the graph").isEqualTo(name.contains("e01") ? 0.1f : 0.001f);

    double[] gamma = readInput(dir, "batch_normalization/gamma");
    double[] beta = readInput(dir, "batch_normalization/beta");
    double[] movingMean = readInput(dir, "batch_normalization/moving_mean");
    double[] movingVariance = readInput(dir, "batch_normalization/moving_variance");
    assertThat(gamma).as("channels at axis %d", axis).hasSize(x.shape()[axis]);

    Path prediction = predictionUnder(dir.resolve("batch_normalization"));
    assertThat(Csv.shape(Path.of(prediction.toString().replace(".csv", ".shape")))).containsExactly(x.shape());
    double[] tfY = Csv.values(prediction);

    double[] y = Nd4jBatchNorm.inferenceMode(x, axis, gamma, beta, movingMean, movingVariance, epsilon);
    assertAllClose(name + " ND4J inference-mode y vs TF", y, tfY,
        Tolerances.TF_FLOAT32_ABSOLUTE, Tolerances.TF_FLOAT32_RELATIVE);
  }

  // ---- fixture reading

  private static int channelAxis(String dataFormat, int rank) {
    return switch (dataFormat) {
      case "NHWC", "NWC", "NDHWC" -> rank - 1;
      case "NCHW", "NCW", "NCDHW" -> 1;
      default -> throw new IllegalArgumentException("data_format " + dataFormat);
    };
  }

  /** The values a node (or the Identity reading it) produced, with its shape. */
  private static Tensor readFloat32(Path dir, String node) {
    Path csv = dir.resolve(fileName(node) + ".0.prediction_inbw.csv");
    double[] values = Csv.values(csv);
    // 8 decimals are finer than half a float32 ulp for these values, so rounding to float32
    // recovers the exact constants TensorFlow ran on.
    return new Tensor.Float32(Csv.shape(Path.of(csv.toString().replace(".csv", ".shape"))), TestData.toFloats(values));
  }

  private static double[] readInput(Path dir, String node) {
    double[] values = Csv.values(dir.resolve(fileName(node) + ".0.prediction_inbw.csv"));
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) values[i];
    }
    return values;
  }

  private static String fileName(String node) {
    return node.replace("/", "____");
  }

  private static Path predictionUnder(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      List<Path> found = files.filter(p -> p.getFileName().toString().endsWith(".prediction.csv")).toList();
      assertThat(found).as("prediction files under %s", dir.getFileName()).hasSize(1);
      return found.get(0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The fixtures' CSV: one number per line. */
  static final class Csv {
    private Csv() {}

    static double[] values(Path file) {
      return lines(file).stream().mapToDouble(Double::parseDouble).toArray();
    }

    static int[] shape(Path file) {
      return lines(file).stream().mapToInt(Integer::parseInt).toArray();
    }

    private static List<String> lines(Path file) {
      try {
        return Files.readAllLines(file).stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** One node of a text GraphDef: enough of it to find inputs, attributes and a scalar constant. */
  record Node(String name, String op, List<String> inputs, String text) {
    private static final Pattern INPUT = Pattern.compile("(?m)^  input: \"([^\"]+)\"$");

    static Node parse(String text) {
      String name = field(text, "(?m)^  name: \"([^\"]+)\"$").orElseThrow();
      String op = field(text, "(?m)^  op: \"([^\"]+)\"$").orElseThrow();
      List<String> inputs = new ArrayList<>();
      Matcher m = INPUT.matcher(text);
      while (m.find()) {
        inputs.add(m.group(1));
      }
      return new Node(name, op, inputs, text);
    }

    /** An attribute's scalar value: the s, f or b field of its AttrValue. */
    Optional<String> attribute(String key) {
      return field(text, "key: \"" + Pattern.quote(key) + "\"\\s*value \\{\\s*(?:s|f|b): \"?([^\"\\s]+)\"?");
    }

    /** The value of a scalar float constant. */
    Optional<String> floatValue() {
      return field(text, "float_val: (\\S+)");
    }

    private static Optional<String> field(String text, String regex) {
      Matcher m = Pattern.compile(regex).matcher(text);
      return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }
  }

  record GraphText(List<Node> nodes) {
    static GraphText read(Path file) {
      String text;
      try {
        text = Files.readString(file);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      List<Node> nodes = new ArrayList<>();
      for (String block : ("\n" + text).split("\nnode \\{\n")) {
        if (block.contains("  op: \"")) {
          nodes.add(Node.parse(block));
        }
      }
      return new GraphText(nodes);
    }

    Optional<Node> find(String op) {
      List<Node> matching = nodes.stream().filter(n -> n.op().equals(op)).toList();
      assertThat(matching).as("%s nodes", op).hasSizeLessThanOrEqualTo(1);
      return matching.stream().findFirst();
    }

    Node single(String op) {
      return find(op).orElseThrow(() -> new AssertionError("no " + op + " node"));
    }

    Node named(String name) {
      return nodes.stream().filter(n -> n.name().equals(name)).findFirst()
          .orElseThrow(() -> new AssertionError("no node " + name));
    }
  }
}
