package dev.bncheck.engine;

import java.util.List;

/**
 * What the calibration data of one layer reduces to: the moments of every batch (training mode
 * normalizes each batch with its own) and of all batches together (the population).
 *
 * @param batches the moments of each batch, in the order they arrived
 * @param population the moments of all batches merged
 * @param firstShape the shape of the first batch, for the report
 */
public record LayerCalibration(List<ChannelMoments> batches, ChannelMoments population, int[] firstShape) {

  public LayerCalibration {
    batches = List.copyOf(batches);
    if (batches.isEmpty()) {
      throw new IllegalArgumentException("calibration without batches");
    }
  }

  /** Values per channel across all batches, non-finite ones included. */
  public long valuesPerChannel() {
    return population.count()[0] + population.nonFinite()[0];
  }
}
