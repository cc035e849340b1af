package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Finding BN layers in models built with TensorFlow Java, one discovery pattern each. */
class GraphDiscoveryTest {

  @TempDir Path dir;

  static BnModel load(TfTestModels.Model model) {
    return model.format() == TfTestModels.Format.SAVED_MODEL
        ? new BnModelFromSavedModel().load(model.path(), CalibrationSink.NONE)
        : new BnModelFromFrozenGraph().load(model.path(), CalibrationSink.NONE);
  }

  static void assertParameters(BnLayer layer, TfTestModels.BnParams expected) {
    assertThat(layer.name()).isEqualTo(TfTestModels.BN_LAYER);
    assertThat(layer.channels()).isEqualTo(TfTestModels.CHANNELS);
    assertThat(layer.epsilon()).isCloseTo(TfTestModels.EPSILON, within(1e-9));
    for (int c = 0; c < TfTestModels.CHANNELS; c++) {
      assertThat(layer.gamma()[c]).isEqualTo(expected.gamma()[c]);
      assertThat(layer.beta()[c]).isEqualTo(expected.beta()[c]);
      assertThat(layer.movingMean()[c]).isEqualTo(expected.movingMean()[c]);
      assertThat(layer.movingVariance()[c]).isEqualTo(expected.movingVariance()[c]);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(TfTestModels.FusedVariant.class)
  void tf1FusedLayerWithItsCheckpointValuesAndMode(TfTestModels.FusedVariant variant) {
    TfTestModels.Model model = TfTestModels.tf1FusedSavedModel(dir, variant);
    BnModel loaded = load(model);
    assertThat(loaded.layers()).hasSize(1);
    assertParameters(loaded.layers().get(0), model.params());
    assertThat(loaded.layers().get(0).graph().orElseThrow().trainingMode()).isEqualTo(model.servingTraining());
    assertThat(loaded.layers().get(0).graph().orElseThrow().nodes()).containsExactly("bn/FusedBatchNormV3");
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(TfTestModels.DecomposedVariant.class)
  void tf1DecomposedLayerIncludingMomentsOfItsOwnInput(TfTestModels.DecomposedVariant variant) {
    TfTestModels.Model model = TfTestModels.tf1DecomposedSavedModel(dir, variant);
    BnModel loaded = load(model);
    assertThat(loaded.layers()).hasSize(1);
    assertParameters(loaded.layers().get(0), model.params());
    assertThat(loaded.layers().get(0).graph().orElseThrow().op()).isEqualTo("Rsqrt pattern");
    assertThat(loaded.layers().get(0).graph().orElseThrow().trainingMode()).isEqualTo(model.servingTraining());
  }

  @Test
  void trainingPathTheSignatureDoesNotReachIsNotPartOfTheModel() {
    TfTestModels.Model model = TfTestModels.tf1TrainingPathBesideServing(dir);
    BnModel loaded = load(model);
    assertThat(loaded.layers()).hasSize(1);
    assertThat(loaded.layers().get(0).graph().orElseThrow().nodes()).containsExactly("bn/FusedBatchNormV3");
    assertThat(loaded.layers().get(0).graph().orElseThrow().trainingMode()).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(TfTestModels.FunctionVariant.class)
  void layerInsideFunctionsAtAnyDepthReadsTheRestoredVariables(TfTestModels.FunctionVariant variant) {
    TfTestModels.Model model = TfTestModels.functionSavedModel(dir, variant);
    BnModel loaded = load(model);
    assertThat(loaded.layers()).hasSize(1);
    BnLayer layer = loaded.layers().get(0);
    assertParameters(layer, model.params());
    List<String> functions = List.copyOf(model.functionNodes().keySet());
    assertThat(layer.origin()).isEqualTo("bn/FusedBatchNormV3 in " + String.join(" > ", functions));
  }

  @Test
  void trainingBranchOfACondThatTheRunDoesNotTakeIsNotPartOfTheModel() {
    TfTestModels.Model model = TfTestModels.tf1CondSavedModel(dir, true);
    BnModel loaded = load(model);
    assertThat(loaded.layers()).hasSize(1);
    assertParameters(loaded.layers().get(0), model.params());
    assertThat(loaded.layers().get(0).graph().orElseThrow().nodes()).containsExactly("cond/bn_infer/FusedBatchNormV3");
    assertThat(loaded.layers().get(0).graph().orElseThrow().trainingMode()).isFalse();
    assertThat(loaded.layers().get(0).graph().orElseThrow().unsharedTraining()).isEmpty();
  }

  @Test
  void condWithUnsharedVariablesServesTheSecondNeverTrainedSet() {
    TfTestModels.Model model = TfTestModels.tf1CondSavedModel(dir, false);
    BnModel loaded = load(model);
    assertThat(loaded.layers()).hasSize(1);
    BnLayer layer = loaded.layers().get(0);
    assertThat(layer.name()).isEqualTo("bn_1");
    assertThat(layer.movingMean()).containsOnly(0.0);
    assertThat(layer.movingVariance()).containsOnly(1.0);
    var twin = layer.graph().orElseThrow().unsharedTraining().orElseThrow();
    assertThat(twin.node()).isEqualTo("cond/bn_train/FusedBatchNormV3");
    assertThat(twin.servingVariables()).containsExactly("bn_1/gamma", "bn_1/beta", "bn_1/moving_mean", "bn_1/moving_variance");
    assertThat(twin.trainingVariables()).containsExactly("bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance");
    assertThat(twin.trainingMovingMean()).containsExactly(0.5, -0.30000001192092896, 0.20000000298023224, 1.100000023841858);
    var codes = RealModelsTest.codes(RealModelsTest.inspect(loaded));
    assertThat(codes).containsExactly("BN001 bn_1", "BN008 bn_1");
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(TfTestModels.FrozenVariant.class)
  void frozenGraphLayerFromConstants(TfTestModels.FrozenVariant variant) {
    TfTestModels.Model model = TfTestModels.frozenGraph(dir, variant);
    BnModel loaded = load(model);
    assertThat(loaded.layers()).hasSize(1);
    assertParameters(loaded.layers().get(0), model.params());
  }
}
