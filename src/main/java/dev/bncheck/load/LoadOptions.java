package dev.bncheck.load;

import java.time.Duration;
import java.util.List;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * How to read a model, for the kinds that need more than a path.
 *
 * @param tensorFlow what only a TensorFlow model is read by
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
 * @param batchOrder the order in which samples are formed into batches
 * @param assumedEpsilon the epsilon of BN layers whose file does not record it (a PyTorch
 *     state_dict; {@code --epsilon}); empty for the framework's default
 * @param assumedMomentum likewise their momentum, in the file's framework's convention
 *     ({@code --momentum})
 */
public record LoadOptions(
    TensorFlowOptions tensorFlow,
    List<String> inputs,
    int batchSize,
    long maxSamples,
    int syntheticSamples,
    Set<String> allowedOps,
    boolean trustModel,
    long trainingViewSamples,
    Duration timeout,
    BatchOrder batchOrder,
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

  public static final LoadOptions DEFAULTS = new LoadOptions(TensorFlowOptions.DEFAULTS, List.of(), 32, Long.MAX_VALUE,
      0, Set.of(), false, DEFAULT_TRAINING_VIEW_SAMPLES, DEFAULT_TIMEOUT, BatchOrder.FILE, OptionalDouble.empty(),
      OptionalDouble.empty(), RecordedConventions.NONE);

  public LoadOptions(String tagSet, String signature, List<String> inputs, int batchSize, long maxSamples) {
    this(tagSet, signature, inputs, batchSize, maxSamples, 0);
  }

  public LoadOptions(
      String tagSet, String signature, List<String> inputs, int batchSize, long maxSamples, int syntheticSamples) {
    this(new TensorFlowOptions(tagSet, signature, List.of()), inputs, batchSize, maxSamples, syntheticSamples,
        Set.of(), false, DEFAULT_TRAINING_VIEW_SAMPLES, DEFAULT_TIMEOUT, BatchOrder.FILE, OptionalDouble.empty(),
        OptionalDouble.empty(), RecordedConventions.NONE);
  }

  /** A builder starting from these options. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** These options with the op check relaxed as the user asked. */
  public LoadOptions withSafety(Set<String> allowed, boolean trust) {
    return toBuilder().allowedOps(allowed).trustModel(trust).build();
  }

  /** These options with the training view on the batches that start below {@code samples}. */
  public LoadOptions withTrainingViewSamples(long samples) {
    return toBuilder().trainingViewSamples(samples).build();
  }

  /** These options with each run of the model limited to {@code limit}. */
  public LoadOptions withTimeout(Duration limit) {
    return toBuilder().timeout(limit).build();
  }

  /** These options forming batches in {@code order}. */
  public LoadOptions withBatchOrder(BatchOrder order) {
    return toBuilder().batchOrder(order).build();
  }

  /** These options with the epsilon and momentum to assume where a file records none. */
  public LoadOptions withAssumedBn(OptionalDouble epsilon, OptionalDouble momentum) {
    return toBuilder().assumedEpsilon(epsilon).assumedMomentum(momentum).build();
  }

  /** These options with the conventions the calibration data recorded of its layers. */
  public LoadOptions withRecordedConventions(RecordedConventions recorded) {
    return toBuilder().recordedConventions(recorded).build();
  }

  /** Whether the model is to be run on data, real or synthetic. */
  public boolean runsOnData() {
    return !inputs.isEmpty() || syntheticSamples > 0;
  }

  /** Options set one by one, each checked when built. */
  public static final class Builder {
    private TensorFlowOptions tensorFlow;
    private List<String> inputs;
    private int batchSize;
    private long maxSamples;
    private int syntheticSamples;
    private Set<String> allowedOps;
    private boolean trustModel;
    private long trainingViewSamples;
    private Duration timeout;
    private BatchOrder batchOrder;
    private OptionalDouble assumedEpsilon;
    private OptionalDouble assumedMomentum;
    private RecordedConventions recordedConventions;

    private Builder(LoadOptions from) {
      tensorFlow = from.tensorFlow;
      inputs = from.inputs;
      batchSize = from.batchSize;
      maxSamples = from.maxSamples;
      syntheticSamples = from.syntheticSamples;
      allowedOps = from.allowedOps;
      trustModel = from.trustModel;
      trainingViewSamples = from.trainingViewSamples;
      timeout = from.timeout;
      batchOrder = from.batchOrder;
      assumedEpsilon = from.assumedEpsilon;
      assumedMomentum = from.assumedMomentum;
      recordedConventions = from.recordedConventions;
    }

    public Builder tensorFlow(TensorFlowOptions options) {
      tensorFlow = options;
      return this;
    }

    public Builder inputs(List<String> specs) {
      inputs = specs;
      return this;
    }

    public Builder batchSize(int samples) {
      batchSize = samples;
      return this;
    }

    public Builder maxSamples(long samples) {
      maxSamples = samples;
      return this;
    }

    public Builder syntheticSamples(int samples) {
      syntheticSamples = samples;
      return this;
    }

    public Builder allowedOps(Set<String> ops) {
      allowedOps = ops;
      return this;
    }

    public Builder trustModel(boolean trust) {
      trustModel = trust;
      return this;
    }

    public Builder trainingViewSamples(long samples) {
      trainingViewSamples = samples;
      return this;
    }

    public Builder timeout(Duration limit) {
      timeout = limit;
      return this;
    }

    public Builder batchOrder(BatchOrder order) {
      batchOrder = order;
      return this;
    }

    public Builder assumedEpsilon(OptionalDouble epsilon) {
      assumedEpsilon = epsilon;
      return this;
    }

    public Builder assumedMomentum(OptionalDouble momentum) {
      assumedMomentum = momentum;
      return this;
    }

    public Builder recordedConventions(RecordedConventions recorded) {
      recordedConventions = recorded;
      return this;
    }

    /** @throws IllegalArgumentException naming the first value out of its range */
    public LoadOptions build() {
      return new LoadOptions(tensorFlow, inputs, batchSize, maxSamples, syntheticSamples, allowedOps, trustModel,
          trainingViewSamples, timeout, batchOrder, assumedEpsilon, assumedMomentum, recordedConventions);
    }
  }

  public LoadOptions {
    java.util.Objects.requireNonNull(tensorFlow, "tensorFlow");
    java.util.Objects.requireNonNull(batchOrder, "batchOrder");
    inputs = List.copyOf(inputs);
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
