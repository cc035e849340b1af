package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.ThirdPartyFixtures;
import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Checks;
import dev.bncheck.analysis.FailOn;
import dev.bncheck.analysis.Finding;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.RunInfo;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real models: those written by other projects in src/test/resources/fixtures (its README.md says
 * what a correct diagnosis of each is) and an untrained Keras CNN made by
 * scripts/make_keras_untrained_cnn.py.
 */
class RealModelsTest {

  static Path fixture(String relative) {
    return ThirdPartyFixtures.require(relative);
  }

  static Report inspect(BnModel model) {
    return new Analyzer(Checks.ALL, Thresholds.DEFAULTS).analyze(model, i -> Optional.empty(),
        Analyzer.DataAvailability.NOT_REQUESTED, new RunInfo("test", "inspect", "0", "none", null, FailOn.ERROR));
  }

  static List<String> codes(Report report) {
    return report.findings().stream().map(f -> f.code() + " " + f.layer()).toList();
  }

  static double sum(double[] values) {
    return Arrays.stream(values).sum();
  }

  /**
   * A Keras 3 export (Keras 2 is not available to make one): BN is the decomposed Rsqrt pattern in
   * one traced function, and no Keras metadata carries the momentum.
   */
  @Test
  void untrainedKerasCnnHasTwoLayersNeverUpdatedAndNoTrainingMode() {
    BnModel model = new BnModelFromSavedModel().load(Path.of("src/test/resources/keras-untrained-cnn/model"),
        CalibrationSink.NONE);
    assertThat(model.layers()).extracting(BnLayer::name)
        .containsExactly("sequential/batch_normalization", "sequential/batch_normalization_1");
    assertThat(model.layers()).extracting(BnLayer::channels).containsExactly(32, 64);
    assertThat(model.unresolved()).isEmpty();
    for (BnLayer layer : model.layers()) {
      assertThat(layer.movingMean()).containsOnly(0.0);
      assertThat(layer.movingVariance()).containsOnly(1.0);
      assertThat(layer.gamma()).containsOnly(1.0);
      assertThat(layer.beta()).containsOnly(0.0);
      assertThat(layer.epsilon()).isCloseTo(1e-3, within(1e-9));
      assertThat(layer.channelAxis()).isEqualTo(-1);
      assertThat(layer.momentum()).isEmpty();
      assertThat(layer.graph().orElseThrow().op()).isEqualTo("Rsqrt pattern");
      assertThat(layer.graph().orElseThrow().trainingMode()).isFalse();
    }
    // Keras 3 traces the model once while building it, so the export's name scopes are uniquified
    // ("batch_normalization_1" holds the first layer); the layer names come from the variables.
    assertThat(model.layers().get(0).origin()).isEqualTo("sequential_1/batch_normalization_1/batchnorm/Rsqrt"
        + " in __inference_signature_wrapper___call___461 > __inference___call___394");
    assertThat(codes(inspect(model))).containsExactly("BN001 sequential/batch_normalization",
        "BN001 sequential/batch_normalization_1");
  }

  /**
   * Sums of each BN layer's moving statistics, read from the checkpoint with TensorFlow for
   * Python 2.21 ({@code tf.train.load_checkpoint}, keys {@code layer_with_weights-K/moving_mean/...},
   * K = 1, 3, ..., 17 in network order): an independent reading of the same values.
   */
  static final double[][] DSCNN_SUMS = {
      {4.11507081, 4.01303116}, {-7.47959593, 12.0679195}, {8.2814997, 39.0728835},
      {4.73083552, 16.0954737}, {-6.7377022, 48.1188231}, {1.12574735, 14.8284319},
      {4.46942255, 39.9576885}, {-4.37514473, 11.6462412}, {25.4936854, 33.5546469}};

  @Test
  void trainedKerasDscnnHasNineHealthyLayersWithTheCheckpointsValues() {
    BnModel model = new BnModelFromSavedModel().load(fixture("keras-trained-dscnn/aww_pretrained_model_v01"),
        CalibrationSink.NONE);
    assertThat(model.layers()).extracting(BnLayer::name).containsExactlyElementsOf(
        IntStream.range(0, 9).mapToObj(i -> i == 0 ? "batch_normalization" : "batch_normalization_" + i).toList());
    assertThat(model.unresolved()).isEmpty();
    for (int i = 0; i < 9; i++) {
      BnLayer layer = model.layers().get(i);
      assertThat(layer.channels()).isEqualTo(64);
      assertThat(layer.momentum()).as("momentum from the object graph's Keras metadata").hasValue(0.99);
      assertThat(sum(layer.movingMean())).as(layer.name()).isCloseTo(DSCNN_SUMS[i][0], within(1e-5));
      assertThat(sum(layer.movingVariance())).as(layer.name()).isCloseTo(DSCNN_SUMS[i][1], within(1e-5));
      assertThat(layer.graph().orElseThrow().trainingMode()).isFalse();
    }
    assertThat(inspect(model).findings()).extracting(Finding::code).doesNotContain("BN001", "BN002", "BN007", "BN008");
  }

  @Test
  void trainedDscnnRunsOnDataWithBatchSizeOneOutputsEqualToBatchedOnesAndAPassingSelfCheck() {
    Path model = fixture("keras-trained-dscnn/aww_pretrained_model_v01");
    dev.bncheck.engine.CalibrationAccumulator data = new dev.bncheck.engine.CalibrationAccumulator();
    new BnModelFromSavedModel().load(model,
        new dev.bncheck.load.LoadOptions("serve", "serving_default", List.of(), 16, 1000, 32), data);
    for (int i = 0; i < 9; i++) {
      var calibration = data.layer(i).orElseThrow();
      assertThat(calibration.population().count()[0]).as("layer %d", i).isPositive();
      assertThat(calibration.selfCheck().orElseThrow().passed()).as("layer %d", i).isTrue();
    }
    assertThat(data.batchSizeChecks()).hasSize(1);
    assertThat(data.batchSizeChecks().get(0).output()).isEqualTo("dense");
    assertThat(data.batchSizeChecks().get(0).consistent()).isTrue();
  }

  @Test
  void keras3ExportCarriesNoMomentum() {
    BnModel model = new BnModelFromSavedModel().load(Path.of("samples/keras-cnn-trained"), CalibrationSink.NONE);
    assertThat(model.layers()).extracting(BnLayer::name).containsExactly("keras_cnn/bn1", "keras_cnn/bn2");
    assertThat(model.layers()).allMatch(l -> l.momentum().isEmpty());
    assertThat(model.layers()).allMatch(l -> l.graph().orElseThrow().op().equals("Rsqrt pattern"));
  }

  @Test
  void frozenDscnnHasNineHealthyLayersNamedByTheirScope() {
    BnModel model = new BnModelFromFrozenGraph().load(fixture("tf-frozen-dscnn/DS_CNN_M/DS_CNN_M.pb"),
        CalibrationSink.NONE);
    assertThat(model.layers()).hasSize(9);
    assertThat(model.layers().get(0).name()).isEqualTo("MobileNet/conv_1/batch_norm");
    assertThat(model.layers().get(1).name()).isEqualTo("MobileNet/conv_ds_1/dw_batch_norm");
    assertThat(model.layers().get(8).name()).isEqualTo("MobileNet/conv_ds_4/pw_batch_norm");
    assertThat(model.layers()).allMatch(l -> l.channels() == 172 && !l.graph().orElseThrow().trainingMode());
    assertThat(inspect(model).findings()).isEmpty();
  }

  static Stream<String> referenceCases() throws Exception {
    try (Stream<Path> cases = Files.list(fixture("tf-bn-reference/batchnorm"))) {
      List<String> names = cases.map(p -> p.getFileName().toString()).sorted().toList();
      assertThat(names).as("tf-bn-reference/batchnorm cases").hasSize(20);
      return names.stream();
    }
  }

  /** tf.layers.batch_normalization in inference mode, fused and decomposed, every layout; statistics 0 and 1. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("referenceCases")
  void referenceGraphHasOneInferenceLayerWithItsEpsilonAndAxis(String name) {
    BnModel model = new BnModelFromFrozenGraph().load(fixture("tf-bn-reference/batchnorm/" + name + "/frozen_model.pb"),
        CalibrationSink.NONE);
    assertThat(model.layers()).hasSize(1);
    BnLayer layer = model.layers().get(0);
    assertThat(layer.name()).isEqualTo("batch_normalization");
    assertThat(layer.epsilon()).isCloseTo(name.contains("e01") ? 0.1 : 0.001, within(1e-7));
    assertThat(layer.channelAxis()).isEqualTo(name.contains("_nc") ? 1 : -1);
    // tf.layers fuses only rank-4 inputs; ranks 2 and 3 always get the decomposed pattern.
    boolean fused = name.startsWith("rank4") && !name.contains("noFused");
    assertThat(layer.graph().orElseThrow().op()).isEqualTo(fused ? "FusedBatchNorm" : "Rsqrt pattern");
    assertThat(layer.graph().orElseThrow().trainingMode()).isFalse();
  }

  @Test
  void trainingModeFusedGraphIsBn002EvenWithParametersFedAtRunTime() {
    BnModel model = new BnModelFromFrozenGraph().load(
        fixture("tf-bn-reference/fused_batch_norm/float32_nhwc/frozen_model.pb"), CalibrationSink.NONE);
    assertThat(model.layers()).isEmpty();
    assertThat(model.unresolved()).hasSize(1);
    assertThat(model.unresolved().get(0).trainingMode()).isTrue();
    assertThat(model.unresolved().get(0).op()).isEqualTo("FusedBatchNormV3");
    assertThat(codes(inspect(model))).containsExactly("BN002 FusedBatchNormV3");
  }
}
