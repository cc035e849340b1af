package dev.bncheck.model;

/**
 * Receives calibration activations one batch at a time, as a loader reads or computes them, so
 * that no loader ever needs to hold every batch of every layer.
 */
public interface CalibrationSink {

  /** A sink for runs that need no data: loaders skip the activations entirely. */
  CalibrationSink NONE =
      new CalibrationSink() {
        @Override
        public boolean wantsActivations() {
          return false;
        }

        @Override
        public void accept(int layerIndex, Tensor batch, int channelAxis) {
          throw new IllegalStateException("no activations wanted");
        }
      };

  boolean wantsActivations();

  /**
   * One batch of activations reaching the layer at {@code layerIndex} (network order).
   *
   * @param channelAxis the channel axis, already resolved against the batch's rank
   */
  void accept(int layerIndex, Tensor batch, int channelAxis);

  /**
   * Batches of activations come soon, once the model is ready to run: a sink that reduces them
   * may get ready meanwhile.
   */
  default void expectBatches() {}

  /**
   * A part of a batch of {@code batchSamples} samples reaching the layer at {@code layerIndex},
   * from loaders that run a batch in parts to bound the memory one run captures. The parts of a
   * batch come in order, each but the last a whole number of {@link #samplesPerGroup} samples,
   * and the last says that it ends the batch; the batch counts as one.
   */
  default void acceptPart(int layerIndex, Tensor part, int channelAxis, int batchSamples, boolean endsBatch) {
    throw new UnsupportedOperationException("this sink takes whole batches only");
  }

  /**
   * The samples this sink groups a batch of {@code batchSamples} into: a loader that runs a batch
   * in parts ({@link #acceptPart}) cuts it at multiples of them.
   */
  default int samplesPerGroup(int batchSamples) {
    return batchSamples;
  }

  /**
   * The moments of one batch reaching the layer at {@code layerIndex}, in place of the batch,
   * from loaders that reduce batches where they compute them. Sinks that only read dumps need
   * not take them.
   */
  default void acceptMoments(int layerIndex, BatchMoments moments) {
    throw new UnsupportedOperationException("this sink takes whole batches only");
  }

  /**
   * The batch mean and variance (divisor n) a training-mode node normalized the batch just
   * accepted with, as the framework computed them, given before its {@link #frameworkOutput}.
   */
  default void frameworkStatistics(int layerIndex, double[] mean, double[] variance) {}

  /**
   * The framework's own output of the layer's node on the batch just accepted (or on its first
   * samples: {@code input} holds the same samples as {@code output}), so that bncheck's
   * reimplementation can be checked against it. In training mode the node normalizes with the
   * statistics of the whole batch: the framework's own, when given, else those the sink has from
   * what it accepted.
   *
   * @param trainingMode whether the node normalizes with the batch's statistics
   * @param precision the format the framework computed the output in: a half model's output
   *     carries half's round-off
   */
  default void frameworkOutput(int layerIndex, BnLayer layer, Tensor input, Tensor output, int channelAxis,
      boolean trainingMode, Precision precision) {}

  /**
   * How far a long read or run has got, for people watching: {@code done} of {@code total}
   * units (batches, layers); total is -1 when unknown.
   */
  default void progress(String what, long done, long total) {}

  /** The reading is over: nothing more comes, and whatever showed its progress may clear it. */
  default void progressEnded() {}

  /**
   * A batch of what reaches the layer when every BN layer of the model runs in training mode,
   * as during training; accepted after the same batch's inference-mode input.
   */
  default void acceptTrainingView(int layerIndex, Tensor batch, int channelAxis) {}

  /** The moments of a batch of the training view, in place of the batch (see {@link #acceptMoments}). */
  default void acceptTrainingViewMoments(int layerIndex, BatchMoments moments) {}

  /**
   * One model output, compared between samples run in a batch and the same samples run alone.
   *
   * @param worstSample the position in the batch of the sample that differs most
   */
  default void batchSizeConsistency(String output, int batchSize, int samplesCompared, double maxAbsDifference,
      double outputRms, int worstSample) {}

  /**
   * How many of the samples the run feeds are distinct: repeated samples add no information, and
   * the statistics are judged on the distinct ones.
   */
  default void distinctSamples(long samples, long distinct) {}

  /** Why no data can be captured for a layer the run executes, so that the report can say so. */
  default void notCaptured(int layerIndex, String reason) {}

  /**
   * What the report says of the padded steps a Keras mask leaves out: that the statistics of the
   * layers it reaches leave them out too, naming the mask, or why masks found are not applied.
   */
  default void maskedSteps(String note) {}

  /**
   * The run took batches of the {@code batchSize} samples the model fixes, whatever was asked, and
   * left out the last {@code samplesLeftOut} samples of the data: a fixed batch takes whole batches
   * only.
   */
  default void fixedBatch(int batchSize, long samplesLeftOut) {}
}
