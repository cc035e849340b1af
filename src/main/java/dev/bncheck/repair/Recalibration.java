package dev.bncheck.repair;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.ChannelMoments;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.ModelSession;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Recomputes BN moving statistics as the exact population statistics of calibration data.
 *
 * <p>Layers go in network order, and each layer's inputs are captured after every upstream
 * layer already has its new statistics: a layer's statistics describe the inputs it receives
 * at inference, and those depend on the layers before it. Recalibrating all layers on one pass
 * would give each layer the statistics of inputs shaped by its upstream layers' old, wrong
 * statistics. The stored variance is the unbiased one (divisor n - 1), as TensorFlow and PyTorch
 * store theirs.
 */
public final class Recalibration {

  /**
   * One layer's statistics before and after.
   *
   * @param toInferenceMode whether the layer, in training mode before (BN002), now normalizes with them
   */
  public record LayerChange(int index, String name, long values, double[] oldMean, double[] oldVariance,
      double[] newMean, double[] newVariance, boolean toInferenceMode) {}

  private Recalibration() {}

  /**
   * @param toInferenceMode switch layers in training mode (BN002) to inference mode, so that
   *     they use the new statistics; otherwise such a layer is refused
   */
  public static List<LayerChange> run(ModelSession session, Map<String, Tensor> data, Predicate<String> selected,
      int batchSize, boolean toInferenceMode) {
    List<BnLayer> layers = session.model().layers();
    List<LayerChange> changes = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      BnLayer layer = layers.get(i);
      if (!selected.test(layer.name())) {
        continue;
      }
      boolean training = layer.graph().isPresent() && layer.graph().get().trainingMode();
      if (training && !toInferenceMode) {
        throw new InvalidInputException(session.model().location(), "layer " + layer.name(),
            "the serving graph normalizes with batch statistics (BN002), so moving statistics are not used at all;"
                + " recalibrating cannot help. Re-export the model in inference mode (docs/findings.md#bn002); an ONNX"
                + " model's layer can also be switched to inference mode with the new statistics (--to-inference-mode)");
      }
      CalibrationAccumulator captured = new CalibrationAccumulator();
      session.capture(data, Set.of(i), batchSize, captured);
      ChannelMoments population = captured.layer(i).orElseThrow(() -> new InvalidInputException(
          session.model().location(), "layer " + layer.name(), "no calibration data reaches this layer")).population();
      double[] mean = new double[layer.channels()];
      double[] variance = new double[layer.channels()];
      for (int c = 0; c < mean.length; c++) {
        mean[c] = population.mean()[c];
        variance[c] = population.unbiasedVariance(c);
      }
      session.assignStatistics(i, mean, variance);
      if (training) {
        session.switchToInferenceMode(i);
      }
      changes.add(new LayerChange(i, layer.name(), population.count()[0], layer.movingMean(), layer.movingVariance(),
          mean, variance, training));
    }
    return changes;
  }
}
