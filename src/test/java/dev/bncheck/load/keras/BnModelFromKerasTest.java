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
  @ParameterizedTest
  @ValueSource(strings = {"healthy", "frozen"})
  void archiveWithoutLayerNamesIsReadByKerasGroupNames(String model) {
    holdsTheExpectedValues(load("hostile/unnamed-vars-" + model + ".keras"), EXPECTED.path("models").path(model));
  }

  /**
   * Files in tf.keras 2's layout (weight names with ":0", BN axis a list, Keras 2.0's Sequential
   * config as a bare list), written by scripts/make_keras2_layout_files.py with the values it
   * records.
   */
  @ParameterizedTest
  @ValueSource(strings = {"keras2-nested.h5", "keras2-old-sequential.h5"})
  void keras2LayoutIsReadWithTheValuesItHolds(String file) {
    BnModel loaded = load(file);
    holdsTheExpectedValues(loaded, KerasFixtures.expected("expected-keras2.json").path(file));
    assertThat(loaded.format()).isEqualTo("Keras HDF5 file (.h5, Keras 2.13.1)");
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
