package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.load.CalibrationPasses;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.model.BnLayer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * TensorFlow rebuilds its whole view of a graph at the first run after nodes were added to it
 * (0.3-0.4 s for ResNet-50). Opening a SavedModel adds the variables' read ops and the statistics
 * ops before either runs, so the batches start without another rebuild, and the layers the
 * statistics ops were prepared for on the variables' declared shapes carry the values read.
 */
class GraphRebuildsTest {

  private static final Path MODEL = Path.of("samples/keras-cnn-trained");
  private static final String INPUTS = "samples/keras-cnn-inputs.npy";

  @Test
  void theVariablesAreReadInTheRunThatFirstSeesTheStatisticsOpsAndTheBatchesAddNothing() {
    LoadOptions options = new LoadOptions("serve", "serving_default", List.of(INPUTS), 8, 32);
    CalibrationAccumulator sink = new CalibrationAccumulator();
    try (SavedModelSession session = SavedModelSession.open(MODEL, options)) {
      CheckedSession checked = session.checkedSession();
      assertThat(checked.snapshots()).as("the run that read the variables saw the whole graph").isEqualTo(1);
      assertThat(checked.graph().operation("bncheck_statistics/Sum")).as("the statistics ops were in it").isNotNull();

      // the inference view alone: the training view adds its copy of the graph when it runs
      CalibrationPasses.run(session, sink, wanted -> false);
      List<BnLayer> layers = session.model().layers();

      assertThat(checked.snapshots()).as("no node added after the variables were read").isEqualTo(1);
      assertThat(layers).hasSize(2);
      for (int i = 0; i < layers.size(); i++) {
        BnLayer layer = layers.get(i);
        assertThat(Arrays.stream(layer.movingVariance()).allMatch(v -> v == 0)).as(layer.name()).isFalse();
        LayerCalibration calibration = sink.layer(i).orElseThrow();
        assertThat(calibration.selfCheck().orElseThrow().passed())
            .as("%s: TensorFlow's output matches the Java reimplementation on the values read", layer.name()).isTrue();
      }
    }
  }
}
