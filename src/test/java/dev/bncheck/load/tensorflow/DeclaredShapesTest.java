package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * SavedModels whose BN variables hold other shapes than their graph declares, on which the graph
 * is prepared before the values are read (scripts/make_declared_shape_models.py; outside
 * tester's finds): each gets the report it had when the values were read first.
 */
class DeclaredShapesTest {

  private static final Path DIR = Path.of("src/test/resources/declared-shapes");

  /** Options for a run on the data file {@code data} of this folder, in batches of 8. */
  private static LoadOptions on(String data) {
    return new LoadOptions("serve", "serving_default", List.of(DIR.resolve(data).toString()), 8, Long.MAX_VALUE);
  }

  private static BnModel checked(String model, CalibrationAccumulator sink) {
    return new BnModelFromSavedModel().load(DIR.resolve(model), on("x.npy"), sink);
  }

  private static double[] linspace(double from, double to, int n) {
    double[] values = new double[n];
    for (int i = 0; i < n; i++) {
      values[i] = from + (to - from) * i / (n - 1);
    }
    return values;
  }

  /** The layer with the values the model's generator gave it, calibrated, its self-check passed. */
  private static void assertCalibrated(BnModel model, CalibrationAccumulator sink, String name, int channels) {
    assertThat(model.unresolved()).isEmpty();
    assertThat(model.layers()).extracting(BnLayer::name).containsExactly(name);
    BnLayer layer = model.layers().get(0);
    assertThat(layer.channels()).isEqualTo(channels);
    assertThat(layer.movingMean()).containsExactly(linspace(-0.1, 0.1, channels), within(1e-7));
    assertThat(layer.movingVariance()).containsExactly(linspace(0.5, 2, channels), within(1e-7));
    assertThat(sink.layer(0).orElseThrow().batches()).hasSize(2);
    assertThat(sink.layer(0).orElseThrow().selfCheck().orElseThrow().passed()).isTrue();
  }

  /**
   * Each model's layer is read with the values its checkpoint holds and calibrated:
   * <ul>
   *   <li>unknown-mean, tf1-unknown-mean: was an internal error (exit 4), since the output of a
   *       node with a parameter of unknown shape has no known rank;
   *   <li>more-channels-than-declared: TensorFlow restores and runs 8 channels where the graph
   *       declares 4, and so does bncheck;
   *   <li>unknown-rank-input: an input of undeclared rank fed data of the rank it takes.
   * </ul>
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"unknown-mean, batchnorm, 4", "tf1-unknown-mean, bn, 4", "more-channels-than-declared, batchnorm, 8",
      "unknown-rank-input, batchnorm, 4"})
  void theLayerIsReadWithTheValuesItHoldsAndCalibrated(String model, String layer, int channels) {
    CalibrationAccumulator sink = new CalibrationAccumulator();
    assertCalibrated(checked(model, sink), sink, layer, channels);
  }

  /** Was an internal error (exit 4) in recalibrate: TensorFlow refuses the write at the graph's declared shape. */
  @Test
  void statisticsOfMoreChannelsThanDeclaredCannotBeWrittenAndSaySo() {
    try (SavedModelSession session = SavedModelSession.open(DIR.resolve("more-channels-than-declared"),
        LoadOptions.DEFAULTS)) {
      double[] ones = new double[8];
      java.util.Arrays.fill(ones, 1);
      assertThatThrownBy(() -> session.assignStatistics(0, new double[8], ones))
          .isInstanceOf(dev.bncheck.load.InvalidInputException.class)
          .hasMessageStartingWith(DIR.resolve("more-channels-than-declared") + ": the moving mean of a layer, variable"
              + " moving_mean, cannot be written with 8 values: ");
    }
  }

  /**
   * TensorFlow's convolution kernel aborted the process on a failed CHECK (exit 134) when fed
   * data of rank 2: the graph's copy now declares the data's shape, which TensorFlow checks as it
   * imports it (an outside tester's find).
   */
  @Test
  void dataOfAnotherRankThanAnUndeclaredInputTakesIsAnError() {
    assertThatThrownBy(() -> new BnModelFromSavedModel().load(DIR.resolve("unknown-rank-input"), on("inputs-rank2.npy"),
        new CalibrationAccumulator()))
        .isInstanceOf(dev.bncheck.load.InvalidInputException.class)
        .hasMessageStartingWith("--inputs: the data (x [samples, 3]) does not fit the model, whose input does not"
            + " declare its rank: Shape must be rank 4 but is rank 2");
  }

  /** A frozen graph runs as imported: its placeholder gets the data's shape before the import. */
  @Test
  void dataOfAnotherRankThanAFrozenGraphsUndeclaredInputTakesIsAnError() {
    assertThatThrownBy(() -> new BnModelFromFrozenGraph().load(DIR.resolve("unknown-rank-input.pb"),
        on("inputs-rank2.npy"), new CalibrationAccumulator()))
        .isInstanceOf(dev.bncheck.load.InvalidInputException.class)
        .hasMessageStartingWith("--inputs: the data (x [samples, 3]) does not fit the model, whose input does not"
            + " declare its rank: ")
        .hasMessageContaining("Shape must be rank 4 but is rank 2");

    CalibrationAccumulator sink = new CalibrationAccumulator();
    BnModel model = new BnModelFromFrozenGraph().load(DIR.resolve("unknown-rank-input.pb"), on("x.npy"), sink);
    assertThat(model.layers()).hasSize(1);
    assertThat(sink.layer(0).orElseThrow().selfCheck().orElseThrow().passed()).isTrue();
  }

  @Test
  void aScalarMovingMeanWhereFourValuesAreDeclaredLeavesTheLayerUnresolved() {
    BnModel model = checked("scalar-mean", new CalibrationAccumulator());
    assertThat(model.layers()).isEmpty();
    assertThat(model.unresolved()).singleElement().satisfies(u -> {
      assertThat(u.name()).isEqualTo("batchnorm");
      assertThat(u.reason()).isEqualTo("parameters differ in length (1 and 4 channels)");
    });
  }
}
