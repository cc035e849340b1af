package dev.bncheck.analysis;

import dev.bncheck.model.BnLayer;

/**
 * How many samples a layer's moving statistics rest on, as an estimate of the population. An
 * exponential average with decay d weighs batch k back by (1 - d) d^k; for independent batch
 * estimates of variance s^2 its variance is s^2 (1 - d) / (1 + d), the variance of a plain mean of
 * (1 + d) / (1 - d) batches: 19 at PyTorch's momentum 0.1, 199 at Keras's 0.99. Each batch holds
 * the training batch size's samples, which no file records; {@link #ASSUMED_TRAINING_BATCH}
 * stands for it. The moving statistics of a healthy model differ from the population by this
 * much by chance, heavy tails widening the variance's share as they do the calibration data's.
 */
final class MovingAverageNoise {

  /**
   * The training batch size assumed: a common default (Keras's fit, many PyTorch scripts). Larger
   * batches make the moving statistics more precise and the allowance wider than needed, which
   * costs sensitivity only to differences near the thresholds.
   */
  static final int ASSUMED_TRAINING_BATCH = 32;

  /** The decay assumed where a layer's momentum is unknown: TensorFlow's and Keras's default. */
  static final double ASSUMED_DECAY = 0.99;

  private MovingAverageNoise() {}

  /** The samples behind the layer's moving statistics; infinite for a decay of 1, which never moves. */
  static double equivalentSamples(BnLayer layer) {
    double batches;
    if (layer.momentum().isPresent()) {
      batches = batchesOf(layer.momentumConvention().decay(layer.momentum().getAsDouble()));
    } else if (layer.numBatchesTracked().isPresent() && layer.numBatchesTracked().getAsLong() > 0) {
      // no momentum and a count: PyTorch's cumulative average (momentum=None), a plain mean of every batch
      batches = layer.numBatchesTracked().getAsLong();
    } else {
      batches = batchesOf(ASSUMED_DECAY);
    }
    return Math.max(2.0, ASSUMED_TRAINING_BATCH * batches);
  }

  /** The batches a plain mean would need to vary as an exponential average of the given decay does. */
  static double batchesOf(double decay) {
    if (!(decay < 1)) {
      return Double.POSITIVE_INFINITY;
    }
    return (1 + Math.max(0, decay)) / (1 - Math.max(0, decay));
  }
}
