package dev.bncheck.analysis;

/**
 * How much calibration data reached a layer.
 *
 * @param valuesPerChannel activation values per channel over all batches
 * @param firstBatchShape the shape of the first batch
 */
public record CalibrationSummary(int batches, long valuesPerChannel, int[] firstBatchShape, long nonFiniteValues) {}
