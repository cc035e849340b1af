package dev.bncheck.engine;

import java.util.List;
import java.util.Optional;

/**
 * What the calibration data of one layer reduces to: the moments of every batch (training mode
 * normalizes each batch with its own) and of all batches together (the population).
 *
 * @param batches the moments of each batch, in the order they arrived
 * @param population the moments of all batches merged
 * @param firstShape the shape of the first batch, for the report
 * @param selfCheck the comparison with the framework's own output, when the loader ran the model
 * @param distinctShare the share of the samples that are distinct (1 unless the data repeats samples)
 * @param sampleGroups groups of samples cut from the first batches, where the data arrived whole
 */
public record LayerCalibration(
    List<ChannelMoments> batches, ChannelMoments population, int[] firstShape, Optional<SelfCheck> selfCheck,
    double distinctShare, SampleGroups sampleGroups) {

  public LayerCalibration(List<ChannelMoments> batches, ChannelMoments population, int[] firstShape) {
    this(batches, population, firstShape, Optional.empty(), 1.0, SampleGroups.NONE);
  }

  public LayerCalibration(List<ChannelMoments> batches, ChannelMoments population, int[] firstShape,
      Optional<SelfCheck> selfCheck) {
    this(batches, population, firstShape, selfCheck, 1.0, SampleGroups.NONE);
  }

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

  /** Samples in the largest batch: training mode normalizes over a batch, and one sample is no batch. */
  public long largestBatchSamples() {
    long perChannel = batches.stream().mapToLong(b -> b.count()[0] + b.nonFinite()[0]).max().orElse(0);
    long total = valuesPerChannel();
    return total == 0 ? 0 : perChannel * samplesSeen() / total;
  }

  /**
   * Independent samples across all batches: the distinct ones among {@link #samplesSeen()}.
   * Repeated samples add values but no information about the population.
   */
  public long samples() {
    return Math.max(Math.min(samplesSeen(), 1), Math.round(samplesSeen() * distinctShare));
  }

  /**
   * Samples across all batches: the values per channel divided by the values one sample gives a
   * channel (its positions, e.g. height x width). The batch axis comes first.
   */
  public long samplesSeen() {
    long perSample = 1;
    for (int d = 1; d < firstShape.length; d++) {
      perSample *= firstShape[d];
    }
    perSample /= Math.max(1, population.channels());
    return perSample > 0 && firstShape.length > 1 ? valuesPerChannel() / perSample : valuesPerChannel();
  }
}
