package dev.bncheck.analysis;

import dev.bncheck.engine.SelfCheck;
import java.util.Optional;

/**
 * How much calibration data reached a layer.
 *
 * @param samples the samples that reached the layer over all batches
 * @param distinctSamples how many of them are distinct: the number a verdict on the layer rests on
 * @param valuesPerChannel activation values per channel over all batches
 * @param firstBatchShape the shape of the first batch
 * @param selfCheck the comparison of bncheck's output with the framework's, when it ran the model
 */
public record CalibrationSummary(
    int batches, long samples, long distinctSamples, long valuesPerChannel, int[] firstBatchShape,
    long nonFiniteValues, Optional<SelfCheck> selfCheck) {

  /** {@code 32 samples}, or {@code 256 samples (4 distinct)} when the data repeats samples. */
  public String samplesText() {
    String text = samples + (samples == 1 ? " sample" : " samples");
    return distinctSamples < samples ? text + " (" + distinctSamples + " distinct)" : text;
  }
}
