package dev.bncheck.load;

import java.time.Duration;
import java.util.List;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * How to read a model, for the kinds that need more than a path.
 *
 * @param tagSet the SavedModel meta graph's tags, comma-separated (like saved_model_cli)
 * @param signature the SavedModel signature whose graph counts
 * @param inputs calibration data for the model's inputs: {@code FILE} or {@code NAME=FILE}
 *     specs, for models that bncheck runs; empty for none
 * @param batchSize how many samples to run at once
 * @param maxSamples at most this many calibration samples are used
 * @param syntheticSamples when positive and no inputs are given, this many random samples are fed
 * @param allowedOps ops the user allows a model to run beyond bncheck's allowlist ({@code --allow-op})
 * @param trustModel skip the op check entirely ({@code --trust-model})
 * @param trainingViewSamples the training view (every BN layer in training mode) runs on the
 *     batches that start below this many samples; 0 for none
 * @param timeout the longest one TensorFlow run may take: loading's restore or init op, or one
 *     batch ({@code --timeout}); a graph that loops forever ends with an input error
 * @param shuffleSamples batches are drawn from the samples in a fixed pseudo-random order instead
 *     of the file's: each batch is then a sample of the whole, and batch statistics of a file
 *     sorted by class do not pass for the population's
 * @param inputNodes graph tensors ({@code node} or {@code node:index}) fed instead of the model's
 *     inputs ({@code --input-node}); empty to feed the signature's inputs or the placeholders
 * @param assumedEpsilon the epsilon of BN layers whose file does not record it (a PyTorch
 *     state_dict; {@code --epsilon}); empty for the framework's default
 * @param assumedMomentum likewise their momentum, in the file's framework's convention
 *     ({@code --momentum})
 */
public record LoadOptions(
    String tagSet,
    String signature,
    List<String> inputs,
    int batchSize,
    long maxSamples,
    int syntheticSamples,
    Set<String> allowedOps,
    boolean trustModel,
    long trainingViewSamples,
    Duration timeout,
    boolean shuffleSamples,
    List<String> inputNodes,
    OptionalDouble assumedEpsilon,
    OptionalDouble assumedMomentum,
    RecordedConventions recordedConventions) {

  /**
   * Two batches at the default size. Running every BN layer in training mode repeats the whole
   * forward pass; 64 samples estimate a channel's mean within a fraction of the BN003 thresholds
   * (docs/tensorflow.md), and the inference view still covers every sample.
   */
  public static final long DEFAULT_TRAINING_VIEW_SAMPLES = 256;

  /** Loading a model of a few GB, or one batch of a large model, takes seconds; minutes mean a loop. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

  public static final LoadOptions DEFAULTS =
      new LoadOptions("serve", "serving_default", List.of(), 32, Long.MAX_VALUE, 0);

  public LoadOptions(String tagSet, String signature, List<String> inputs, int batchSize, long maxSamples) {
    this(tagSet, signature, inputs, batchSize, maxSamples, 0);
  }

  public LoadOptions(
      String tagSet, String signature, List<String> inputs, int batchSize, long maxSamples, int syntheticSamples) {
    this(tagSet, signature, inputs, batchSize, maxSamples, syntheticSamples, Set.of(), false,
        DEFAULT_TRAINING_VIEW_SAMPLES, DEFAULT_TIMEOUT, false, List.of(), OptionalDouble.empty(),
        OptionalDouble.empty(), RecordedConventions.NONE);
  }

  /** These options with the op check relaxed as the user asked. */
  public LoadOptions withSafety(Set<String> allowed, boolean trust) {
    return new LoadOptions(tagSet, signature, inputs, batchSize, maxSamples, syntheticSamples, allowed, trust,
        trainingViewSamples, timeout, shuffleSamples, inputNodes,
        assumedEpsilon, assumedMomentum, recordedConventions);
  }

  /** These options with the training view on the batches that start below {@code samples}. */
  public LoadOptions withTrainingViewSamples(long samples) {
    return new LoadOptions(tagSet, signature, inputs, batchSize, maxSamples, syntheticSamples, allowedOps,
        trustModel, samples, timeout, shuffleSamples, inputNodes,
        assumedEpsilon, assumedMomentum, recordedConventions);
  }

  /** These options with each TensorFlow run limited to {@code limit}. */
  public LoadOptions withTimeout(Duration limit) {
    return new LoadOptions(tagSet, signature, inputs, batchSize, maxSamples, syntheticSamples, allowedOps,
        trustModel, trainingViewSamples, limit, shuffleSamples, inputNodes,
        assumedEpsilon, assumedMomentum, recordedConventions);
  }

  /** These options with the samples shuffled into batches, or taken in the file's order. */
  public LoadOptions withShuffledSamples(boolean shuffle) {
    return new LoadOptions(tagSet, signature, inputs, batchSize, maxSamples, syntheticSamples, allowedOps,
        trustModel, trainingViewSamples, timeout, shuffle, inputNodes,
        assumedEpsilon, assumedMomentum, recordedConventions);
  }

  /** These options feeding the given graph tensors instead of the model's inputs. */
  public LoadOptions withInputNodes(List<String> tensors) {
    return new LoadOptions(tagSet, signature, inputs, batchSize, maxSamples, syntheticSamples, allowedOps,
        trustModel, trainingViewSamples, timeout, shuffleSamples, tensors,
        assumedEpsilon, assumedMomentum, recordedConventions);
  }

  /** These options with the epsilon and momentum to assume where a file records none. */
  public LoadOptions withAssumedBn(OptionalDouble epsilon, OptionalDouble momentum) {
    return new LoadOptions(tagSet, signature, inputs, batchSize, maxSamples, syntheticSamples, allowedOps,
        trustModel, trainingViewSamples, timeout, shuffleSamples, inputNodes, epsilon, momentum,
        recordedConventions);
  }

  /** These options with the conventions the calibration data recorded of its layers. */
  public LoadOptions withRecordedConventions(RecordedConventions recorded) {
    return new LoadOptions(tagSet, signature, inputs, batchSize, maxSamples, syntheticSamples, allowedOps,
        trustModel, trainingViewSamples, timeout, shuffleSamples, inputNodes, assumedEpsilon, assumedMomentum,
        recorded);
  }

  /** Whether the model is to be run on data, real or synthetic. */
  public boolean runsOnData() {
    return !inputs.isEmpty() || syntheticSamples > 0;
  }

  public LoadOptions {
    inputs = List.copyOf(inputs);
    inputNodes = List.copyOf(inputNodes);
    allowedOps = Set.copyOf(allowedOps);
    java.util.Objects.requireNonNull(assumedEpsilon, "assumedEpsilon");
    java.util.Objects.requireNonNull(assumedMomentum, "assumedMomentum");
    java.util.Objects.requireNonNull(recordedConventions, "recordedConventions");
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    if (syntheticSamples < 0) {
      throw new IllegalArgumentException("synthetic samples must not be negative, got " + syntheticSamples);
    }
    if (trainingViewSamples < 0) {
      throw new IllegalArgumentException("training view samples must not be negative, got " + trainingViewSamples);
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("the time limit must be positive, got " + timeout);
    }
    if (maxSamples < 1) {
      throw new IllegalArgumentException("max samples must be at least 1, got " + maxSamples);
    }
  }
}
