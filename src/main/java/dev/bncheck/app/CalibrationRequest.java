package dev.bncheck.app;

import dev.bncheck.load.BatchOrder;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.array.ModelInputs;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The calibration data {@code check} reads and how a backend runs the model on it, as the command
 * line gave them; null where an option was not given.
 *
 * @param inputs the {@code --inputs} specs: files, NAME=FILE, NAME=VALUE, @GLOB
 * @param inputNodes graph tensors fed instead of the model's inputs
 * @param synthetic random samples to feed instead of data
 * @param maxSamples the most samples used
 * @param trainingViewSamples the samples the training view runs on
 * @param runOptionsGiven the options given on the command line that only a run of the model
 *     reads (batches, samples, views), to refuse them for a model no backend runs
 */
public record CalibrationRequest(List<String> inputs, List<String> inputNodes, Integer synthetic, int batchSize,
    Long maxSamples, BatchOrder batchOrder, TrainingView trainingView, Long trainingViewSamples,
    List<String> runOptionsGiven) {

  /** When to run the training view, the reference BN003 judges moving statistics on. */
  public enum TrainingView { AUTO, ALWAYS, NEVER }

  public CalibrationRequest {
    inputs = List.copyOf(inputs);
    inputNodes = List.copyOf(inputNodes);
    runOptionsGiven = List.copyOf(runOptionsGiven);
    batchOrder = Objects.requireNonNullElse(batchOrder, BatchOrder.SHUFFLED);
    trainingView = Objects.requireNonNullElse(trainingView, TrainingView.AUTO);
  }

  /** The files named by {@code --inputs}, without their NAME= part, each glob's files listed. */
  public List<Path> dataFiles() {
    return ModelInputs.files(inputs);
  }

  int syntheticSamples() {
    return synthetic == null ? 0 : synthetic;
  }

  /** The options given that apart from the model's kind contradict each other. */
  void requireConsistent() {
    if (synthetic != null && synthetic < 1) {
      throw new UsageException("--synthetic needs at least 1 sample");
    }
    if (synthetic != null && !inputs.isEmpty()) {
      throw new UsageException("--synthetic and --inputs exclude each other");
    }
    requireWellFormed(inputs);
  }

  /** {@code --inputs} specs that say what they read, before any file is read: a usage error otherwise. */
  static void requireWellFormed(List<String> inputs) {
    try {
      ModelInputs.requireWellFormed(inputs);
    } catch (InvalidInputException e) {
      throw new UsageException("--inputs " + e.getMessage());
    }
  }

  /** How a backend runs the model on this data, the model's own options taken from {@code model}. */
  LoadOptions runOptions(LoadOptions model) {
    try {
      return model.toBuilder()
          .tensorFlow(model.tensorFlow().withInputNodes(inputNodes))
          .inputs(inputs)
          .batchSize(batchSize)
          .maxSamples(maxSamples == null ? Long.MAX_VALUE : maxSamples)
          .syntheticSamples(syntheticSamples())
          .trainingViewSamples(trainingView == TrainingView.NEVER || batchSize < 2 ? 0
              : trainingViewSamples == null ? LoadOptions.DEFAULT_TRAINING_VIEW_SAMPLES : trainingViewSamples)
          .batchOrder(batchOrder)
          .build();
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }
}
