package dev.bncheck.repair;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.CalibrationData;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.load.ModelSession;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/** The check analysis of one model on held-out data: each layer's divergence metrics. */
public final class Verification {

  /** A layer's metrics on the held-out data, empty when no data reached it. */
  public record LayerMetrics(String name, Optional<DivergenceMetrics> metrics) {}

  private Verification() {}

  public static List<LayerMetrics> measure(ModelSession session, Map<String, Tensor> heldOut, int batchSize) {
    return metrics(session.model().layers(), capture(session, heldOut, batchSize));
  }

  /** What reaches every layer on the held-out data: check's view of the model on it. */
  public static CalibrationAccumulator capture(ModelSession session, Map<String, Tensor> heldOut, int batchSize) {
    CalibrationAccumulator data = new CalibrationAccumulator();
    session.capture(heldOut, IntStream.range(0, session.model().layers().size()).boxed().collect(Collectors.toSet()),
        batchSize, data);
    return data;
  }

  public static List<LayerMetrics> metrics(List<BnLayer> layers, CalibrationData data) {
    List<LayerMetrics> out = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      BnLayer layer = layers.get(i);
      out.add(new LayerMetrics(layer.name(), data.layer(i).map(c -> DivergenceMetrics.of(layer, c))));
    }
    return out;
  }
}
