package dev.bncheck.load.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bncheck.load.Loaders;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.MomentumConvention;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** bncheck reads from each Keras file the values Keras itself held (expected.json, written by Keras). */
class BnModelFromKerasTest {

  private static final JsonNode EXPECTED = KerasFixtures.expected();

  static Stream<Arguments> files() {
    List<Arguments> all = new ArrayList<>();
    for (String model : List.of("healthy", "untrained", "few-steps", "frozen")) {
      all.add(Arguments.of(model, model + ".keras"));
      all.add(Arguments.of(model, model + ".h5"));
    }
    return all.stream();
  }

  /**
   * Keras names a layers/ group after the layer's class: a LayerNormalization named
   * "batch_normalization" and a GroupNormalization named "batch_normalization_7" were read as BN
   * by their recorded names (their two vectors as moving statistics).
   */
  @Test
  void otherNormalizationsNamedLikeBnAreNotBnAndACustomFourVectorLayerIsSaidToBeAGuess() {
    BnModel model = load("odd-norms.weights.h5");
    assertThat(model.layers()).extracting(BnLayer::name).containsExactly("bn_real", "my_four");
    assertThat(model.format()).endsWith("; read as BN by their four variables though their group names another class:"
        + " my_four (four_vectors)");
    assertThat(model.layers().get(0).origin()).doesNotContain("another class", "not BatchNormalization");
    assertThat(model.layers().get(1).origin()).contains("its group names the class four_vectors, not"
        + " BatchNormalization: read as BN by its four variables");
  }

  private static BnModel load(String file) {
    var path = KerasFixtures.file(file);
    var loader = Loaders.forModel(path);
    assertThat(loader).isInstanceOf(BnModelFromKeras.class);
    return loader.load(path, CalibrationSink.NONE);
  }

  private static double[] values(JsonNode array) {
    double[] out = new double[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).doubleValue();
    }
    return out;
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("files")
  void everyBnLayerHoldsTheValuesKerasHeld(String model, String file) {
    holdsTheExpectedValues(load(file), EXPECTED.path("models").path(model));
  }

  /**
   * Without the layer name Keras 3 records on each vars group, layers are found by the group
   * names Keras's naming rule gives them (scripts/make_keras_hostile_files.py removes the names).
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"healthy", "frozen"})
  void archiveWithoutLayerNamesIsReadByKerasGroupNames(String model) {
    holdsTheExpectedValues(load("hostile/unnamed-vars-" + model + ".keras"), EXPECTED.path("models").path(model));
  }

  /**
   * Files in tf.keras 2's layout (weight names with ":0", BN axis a list, Keras 2.0's Sequential
   * config as a bare list), written by scripts/make_keras2_layout_files.py with the values it
   * records.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"keras2-nested.h5", "keras2-old-sequential.h5"})
  void keras2LayoutIsReadWithTheValuesItHolds(String file) {
    BnModel loaded = load(file);
    holdsTheExpectedValues(loaded, KerasFixtures.expected("expected-keras2.json").path(file));
    assertThat(loaded.format()).isEqualTo("Keras HDF5 file (.h5, Keras 2.13.1)");
  }

  static Stream<Arguments> weightsOnlyFiles() {
    List<Arguments> all = new ArrayList<>();
    for (String model : List.of("healthy", "untrained", "frozen")) {
      all.add(Arguments.of(model, model + ".weights.h5"));
      all.add(Arguments.of(model, model + "-keras2.weights.h5"));
    }
    return all.stream();
  }

  /**
   * A weights-only file (save_weights, scripts/make_keras_weights_only.py) holds no config: its BN
   * layers are found by their variables with the statistics Keras held, and Keras's defaults
   * (epsilon 0.001, momentum 0.99, last axis) are assumed and said so. In Keras 3's layout a layer
   * with three variables (scale=False) does not say whether the first is gamma or beta: neither is read.
   */
  @ParameterizedTest(name = "{1}")
  @MethodSource("weightsOnlyFiles")
  void weightsOnlyFilesHoldTheStatisticsKerasHeldWithItsDefaultsAssumed(String model, String file) {
    BnModel loaded = load(file);
    JsonNode expected = EXPECTED.path("models").path(model).path("layers");
    List<String> names = new ArrayList<>();
    expected.fieldNames().forEachRemaining(names::add);
    assertThat(loaded.layers()).extracting(BnLayer::name).containsExactlyInAnyOrderElementsOf(names);
    assertThat(loaded.format()).contains("Keras weights file (save_weights", "epsilon 0.001 (Keras's default),"
        + " momentum 0.99 (Keras's default) and the last axis as channels assumed: the file does not record them");
    boolean keras3 = !file.contains("keras2");
    for (BnLayer layer : loaded.layers()) {
      JsonNode keras = expected.path(layer.name());
      assertThat(layer.channelAxis()).isEqualTo(-1);
      assertThat(layer.epsilon()).isEqualTo(1e-3);
      assertThat(layer.momentum()).hasValue(0.99);
      assertThat(layer.movingMean()).as(layer.name()).containsExactly(values(keras.path("moving_mean")));
      assertThat(layer.movingVariance()).as(layer.name()).containsExactly(values(keras.path("moving_variance")));
      boolean oneOfTwo = keras3 && keras.path("scale").booleanValue() != keras.path("center").booleanValue();
      assertThat(layer.hasGamma()).as(layer.name()).isEqualTo(keras.path("scale").booleanValue() && !oneOfTwo);
      assertThat(layer.hasBeta()).as(layer.name()).isEqualTo(keras.path("center").booleanValue() && !oneOfTwo);
      if (layer.hasGamma()) {
        assertThat(layer.gamma()).as(layer.name()).containsExactly(values(keras.path("gamma")));
      }
      if (layer.hasBeta()) {
        assertThat(layer.beta()).as(layer.name()).containsExactly(values(keras.path("beta")));
      }
      assertThat(layer.origin().contains("is gamma or beta, which the file does not say")).isEqualTo(oneOfTwo);
    }
  }

  /**
   * A subclassed model (scripts/make_keras_subclassed.py) lists no layers in its config: its BN
   * layers are found among the weights, by Keras's default name, by the four variables only a BN
   * layer has (a layer the user named "norm"), and inside a Sequential attribute; the values are
   * those Keras held (expected-subclassed.json).
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"subclassed.keras", "subclassed.weights.h5"})
  void subclassedModelsHoldTheValuesKerasHeld(String file) {
    BnModel loaded = load(file);
    JsonNode expected = KerasFixtures.expected("expected-subclassed.json").path("layers");
    List<String> names = new ArrayList<>();
    expected.fieldNames().forEachRemaining(names::add);
    assertThat(names).hasSize(3);
    assertThat(loaded.layers()).extracting(BnLayer::name).containsExactlyInAnyOrderElementsOf(names);
    for (BnLayer layer : loaded.layers()) {
      JsonNode keras = expected.path(layer.name());
      assertThat(layer.movingMean()).as(layer.name()).containsExactly(values(keras.path("moving_mean")));
      assertThat(layer.movingVariance()).as(layer.name()).containsExactly(values(keras.path("moving_variance")));
      assertThat(layer.gamma()).as(layer.name()).containsExactly(values(keras.path("gamma")));
      assertThat(layer.beta()).as(layer.name()).containsExactly(values(keras.path("beta")));
    }
    assertThat(loaded.format()).contains(file.endsWith(".keras")
        ? "a subclassed model (Net), whose config lists no layers: BN layers found by their variables"
        : "a weights-only file");
  }

  /** The user's --epsilon and --momentum replace Keras's defaults, and the report says where they came from. */
  @Test
  void weightsOnlyFilesTakeTheUsersEpsilonAndMomentum() {
    var path = KerasFixtures.file("healthy.weights.h5");
    BnModel loaded = Loaders.forModel(path).load(path, dev.bncheck.load.LoadOptions.DEFAULTS
        .withAssumedBn(java.util.OptionalDouble.of(0.01), java.util.OptionalDouble.of(0.9)),
        CalibrationSink.NONE);
    assertThat(loaded.layers()).allSatisfy(l -> {
      assertThat(l.epsilon()).isEqualTo(0.01);
      assertThat(l.momentum()).hasValue(0.9);
    });
    assertThat(loaded.format()).contains("epsilon 0.01 (--epsilon), momentum 0.9 (--momentum)");
  }

  private static void holdsTheExpectedValues(BnModel loaded, JsonNode expected) {
    assertThat(expected.path("layers").size()).as("expected layers").isPositive();
    assertThat(loaded.modelName()).isEqualTo(expected.path("model").isNull() ? null : expected.path("model").asText());
    assertThat(loaded.framework()).isEqualTo("keras");
    List<String> names = new ArrayList<>();
    expected.path("layers").fieldNames().forEachRemaining(names::add);
    assertThat(loaded.layers()).extracting(BnLayer::name).containsExactlyElementsOf(names);
    for (BnLayer layer : loaded.layers()) {
      JsonNode keras = expected.path("layers").path(layer.name());
      assertThat(layer.channelAxis()).as(layer.name()).isEqualTo(keras.path("axis").intValue());
      assertThat(layer.epsilon()).as(layer.name()).isEqualTo(keras.path("epsilon").doubleValue());
      assertThat(layer.momentum()).as(layer.name()).hasValue(keras.path("momentum").doubleValue());
      assertThat(layer.momentumConvention()).isEqualTo(MomentumConvention.KERAS);
      assertThat(layer.movingMean()).as(layer.name()).containsExactly(values(keras.path("moving_mean")));
      assertThat(layer.movingVariance()).as(layer.name()).containsExactly(values(keras.path("moving_variance")));
      assertThat(layer.hasGamma()).as(layer.name()).isEqualTo(keras.path("scale").booleanValue());
      assertThat(layer.hasBeta()).as(layer.name()).isEqualTo(keras.path("center").booleanValue());
      if (layer.hasGamma()) {
        assertThat(layer.gamma()).as(layer.name()).containsExactly(values(keras.path("gamma")));
      } else {
        assertThat(layer.gamma()).as("no scale: ones").containsOnly(1.0).hasSize(layer.channels());
      }
      if (layer.hasBeta()) {
        assertThat(layer.beta()).as(layer.name()).containsExactly(values(keras.path("beta")));
      }
      assertThat(layer.origin().contains("frozen (trainable: false)")).as(layer.name() + " " + layer.origin())
          .isEqualTo(!keras.path("trainable").booleanValue());
    }
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("files")
  void theFormatSaysWhichLayoutAndKerasVersion(String model, String file) {
    String version = EXPECTED.path("keras_version").asText();
    assertThat(load(file).format()).isEqualTo(file.endsWith(".keras")
        ? "Keras archive (.keras, Keras " + version + ")" : "Keras HDF5 file (.h5, Keras " + version + ")");
  }
}
