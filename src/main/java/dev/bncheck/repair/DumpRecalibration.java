package dev.bncheck.repair;

import dev.bncheck.engine.ChannelMoments;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.load.dump.DumpStatisticsWriter;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Recalibration of a JSON dump: each selected layer gets the population mean and unbiased
 * variance of the activations the dump (or a calibration dump) holds for it, but for the samples
 * held out to verify them ({@link DumpSplit}). A dump's activations
 * were captured once, with the old statistics upstream, so unlike a SavedModel the layers cannot be
 * rerun in network order; for a dump of a real model, recalibrate the model itself (PyTorch:
 * torch.optim.swa_utils.update_bn) and dump it again.
 */
public final class DumpRecalibration {

  /** A layer's metrics on the held-out samples with the old and the new statistics. */
  public record LayerResult(String name, long values, Optional<DivergenceMetrics> before,
      Optional<DivergenceMetrics> after) {}

  /** The new statistics by layer position, and the per-layer comparison. */
  public record Result(Map<Integer, DumpStatisticsWriter.Statistics> statistics, List<LayerResult> layers) {}

  private DumpRecalibration() {}

  public static Result run(BnModel model, DumpSplit data, Predicate<String> selected) {
    Map<Integer, DumpStatisticsWriter.Statistics> statistics = new LinkedHashMap<>();
    List<LayerResult> layers = new ArrayList<>();
    for (int i = 0; i < model.layers().size(); i++) {
      BnLayer layer = model.layers().get(i);
      Optional<LayerCalibration> calibration = data.calibration().layer(i);
      Optional<LayerCalibration> heldOut = data.heldOut().layer(i);
      if (!selected.test(layer.name()) || calibration.isEmpty()) {
        layers.add(new LayerResult(layer.name(), 0, heldOut.map(c -> DivergenceMetrics.of(layer, c)),
            heldOut.map(c -> DivergenceMetrics.of(layer, c))));
        continue;
      }
      ChannelMoments population = calibration.get().population();
      double[] mean = population.mean().clone();
      double[] variance = new double[layer.channels()];
      for (int c = 0; c < variance.length; c++) {
        variance[c] = population.unbiasedVariance(c);
      }
      statistics.put(i, new DumpStatisticsWriter.Statistics(mean, variance));
      BnLayer fixed = layer.withStatistics(mean, variance);
      layers.add(new LayerResult(layer.name(), population.count()[0],
          heldOut.map(c -> DivergenceMetrics.of(layer, c)), heldOut.map(c -> DivergenceMetrics.of(fixed, c))));
    }
    return new Result(statistics, layers);
  }
}
