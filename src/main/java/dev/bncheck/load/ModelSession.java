package dev.bncheck.load;

import dev.bncheck.model.Backend;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * A model opened in its framework and kept open, whatever the framework: its BN layers, runs of
 * it on calibration data, and new moving statistics written into a copy of it. {@code check} and
 * {@code recalibrate} know models through this interface alone; a backend is one implementation
 * opened by its {@link ModelLoader#open loader}. Native resources live until {@link #close}.
 */
public interface ModelSession extends AutoCloseable {

  /** What reaches the BN layers: with every layer in the mode the model serves in, or all in training mode. */
  enum View {
    /** The model as it serves: what its moving statistics must describe. */
    INFERENCE,
    /**
     * Every BN layer normalizing with the batch's own statistics, as during training: the
     * reference BN003 judges moving statistics on.
     */
    TRAINING
  }

  /** The model's BN layers and their parameters, as opened. */
  BnModel model();

  /** What runs the model, as reports name it. */
  Backend backend();

  /**
   * One pass over the calibration data the session was opened with ({@link LoadOptions#inputs()}
   * or synthetic samples), streaming what reaches every layer into the sink. The inference view
   * also gives the sink the framework's own BN outputs (the self-check), the share of distinct
   * samples, the layers nothing can be captured for, and the model's outputs on samples alone
   * and in a batch (BN005). The training view runs after the inference view, on its first
   * samples ({@link LoadOptions#trainingViewSamples()}), and only where {@link #offersTrainingView}.
   */
  void calibrate(View view, CalibrationSink sink);

  /** Whether, after the inference view, this model can run the training view on its data. */
  boolean offersTrainingView();

  /**
   * What reaches the given layers (by position) on {@code data}, with the statistics as they now
   * are in the session, in the inference view; every reduction exact (two passes), since these
   * statistics are written into a model.
   */
  void capture(Map<String, Tensor> data, Set<Integer> layers, int batchSize, CalibrationSink sink);

  /** Compares the model's outputs between a batch of {@code data} and its first samples run alone (BN005). */
  void batchSizeConsistency(Map<String, Tensor> data, int batchSize, CalibrationSink sink);

  /** A classifier's predicted class per sample (argmax of its first float output), {@code batchSize} at a time. */
  Predictions predictions(Map<String, Tensor> data, int batchSize);

  /**
   * Sets a layer's moving statistics in the session: later captures and predictions use them,
   * and {@link #saveTo} writes them.
   *
   * @throws InvalidInputException where the model holds them in a form that cannot be rewritten
   */
  void assignStatistics(int layerIndex, double[] mean, double[] variance);

  /**
   * Makes the layer's training-mode nodes (BN002) normalize with its moving statistics, in the
   * session and in the model {@link #saveTo} writes.
   *
   * @throws InvalidInputException where the model cannot be switched
   */
  void switchToInferenceMode(int layerIndex);

  /**
   * Writes the model with the session's current statistics (and modes), and nothing else changed, as a new
   * model of the same kind at {@code target}: into that empty directory for a model that is a
   * directory (a SavedModel), else over that empty file. The caller renames it into place.
   */
  void saveTo(Path target);

  @Override
  void close();
}
