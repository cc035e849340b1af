package dev.bncheck.analysis;

import dev.bncheck.engine.SelfCheck;
import java.util.Optional;

/**
 * How much calibration data reached a layer.
 *
 * @param valuesPerChannel activation values per channel over all batches
 * @param firstBatchShape the shape of the first batch
 * @param selfCheck the comparison of bncheck's output with the framework's, when it ran the model
 */
public record CalibrationSummary(
    int batches, long valuesPerChannel, int[] firstBatchShape, long nonFiniteValues, Optional<SelfCheck> selfCheck) {}
