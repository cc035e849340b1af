package dev.bncheck.engine;

import dev.bncheck.model.BatchMoments;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Precision;
import dev.bncheck.model.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BiPredicate;

/**
 * Reduces calibration batches to moments as they arrive, so memory holds one batch at a time
 * plus a few numbers per channel and batch.
 */
public final class CalibrationAccumulator implements CalibrationSink, CalibrationData {

  private final Map<Integer, Builder> layers = new TreeMap<>();
  private final Map<Integer, Builder> trainingViews = new TreeMap<>();
  private final List<BatchSizeConsistency> batchSizeChecks = new ArrayList<>();
  private final Map<Integer, String> notCaptured = new HashMap<>();
  private double distinctShare = 1.0;
  private final BiPredicate<BnLayer, LayerCalibration> trainingViewWanted;

  /** An accumulator that wants the training view whenever a model offers it. */
  public CalibrationAccumulator() {
    this((layer, calibration) -> true);
  }

  /**
   * An accumulator that wants the training view ({@link #wantsTrainingView}) only if some
   * layer's inference view satisfies {@code trainingViewWanted}.
   */
  public CalibrationAccumulator(BiPredicate<BnLayer, LayerCalibration> trainingViewWanted) {
    this.trainingViewWanted = trainingViewWanted;
  }

  /**
   * Whether the training view is still worth its forward pass after the inference view: some
   * layer's inference view satisfies the predicate this accumulator was made with.
   *
   * @param layers the model's layers, in network order
   */
  public boolean wantsTrainingView(List<BnLayer> layers) {
    for (int i = 0; i < layers.size(); i++) {
      Optional<LayerCalibration> calibration = layer(i);
      if (calibration.isPresent() && trainingViewWanted.test(layers.get(i), calibration.get())) {
        return true;
      }
    }
    return false;
  }

  @Override
  public boolean wantsActivations() {
    return true;
  }

  @Override
  public void accept(int layerIndex, Tensor batch, int channelAxis) {
    layers.computeIfAbsent(layerIndex, i -> new Builder(batch.shape())).add(batch, channelAxis);
  }

  /** Compiles the moments kernel while the model gets ready ({@link MomentsKernel#warmUpInBackground}). */
  @Override
  public void expectBatches() {
    MomentsKernel.warmUpInBackground();
  }

  @Override
  public void acceptPart(int layerIndex, Tensor part, int channelAxis, int batchSamples, boolean endsBatch) {
    layers.computeIfAbsent(layerIndex, i -> new Builder(batchShape(part.shape(), batchSamples)))
        .addPart(part, channelAxis, batchSamples, endsBatch);
  }

  private static int[] batchShape(int[] partShape, int batchSamples) {
    int[] shape = partShape.clone();
    if (shape.length > 0) {
      shape[0] = batchSamples;
    }
    return shape;
  }

  @Override
  public int samplesPerGroup(int batchSamples) {
    return Builder.groupSize(batchSamples);
  }

  @Override
  public void acceptTrainingView(int layerIndex, Tensor batch, int channelAxis) {
    trainingViews.computeIfAbsent(layerIndex, i -> new Builder(batch.shape())).add(batch, channelAxis);
  }

  @Override
  public void acceptMoments(int layerIndex, BatchMoments moments) {
    layers.computeIfAbsent(layerIndex, i -> new Builder(moments.shape())).add(of(moments));
  }

  @Override
  public void acceptTrainingViewMoments(int layerIndex, BatchMoments moments) {
    trainingViews.computeIfAbsent(layerIndex, i -> new Builder(moments.shape())).add(of(moments));
  }

  private static ChannelMoments of(BatchMoments moments) {
    int channels = moments.mean().length;
    long[] count = new long[channels];
    Arrays.fill(count, moments.countPerChannel());
    return new ChannelMoments(count, moments.mean().clone(), moments.m2().clone(), new long[channels]);
  }

  /**
   * Forgets the training view accepted so far: a dump carries it whether or not the run wants it.
   */
  public void discardTrainingView() {
    trainingViews.clear();
  }

  /** The most samples the training view holds for any layer; 0 without a training view. */
  public long trainingViewSamples() {
    return trainingViews.keySet().stream().mapToLong(i -> trainingView(i).orElseThrow().samples()).max().orElse(0);
  }

  @Override
  public Optional<LayerCalibration> trainingView(int layerIndex) {
    Builder b = trainingViews.get(layerIndex);
    return b == null ? Optional.empty()
        : Optional.of(new LayerCalibration(b.batches, b.population, b.firstShape, Optional.empty(), distinctShare,
            b.sampleGroups()));
  }

  @Override
  public void batchSizeConsistency(String output, int batchSize, int samplesCompared, double maxAbsDifference,
      double outputRms, int worstSample) {
    batchSizeChecks.add(new BatchSizeConsistency(output, batchSize, samplesCompared, maxAbsDifference, outputRms,
        worstSample));
  }

  @Override
  public List<BatchSizeConsistency> batchSizeChecks() {
    return List.copyOf(batchSizeChecks);
  }

  @Override
  public void distinctSamples(long samples, long distinct) {
    distinctShare = samples <= 0 ? 1.0 : Math.min(1.0, (double) distinct / samples);
  }

  @Override
  public void notCaptured(int layerIndex, String reason) {
    notCaptured.put(layerIndex, reason);
  }

  /** The batch size a model fixes and the samples it left out, where the run said so. */
  public record FixedBatch(int batchSize, long samplesLeftOut) {}

  private FixedBatch fixedBatch;

  @Override
  public void fixedBatch(int batchSize, long samplesLeftOut) {
    fixedBatch = new FixedBatch(batchSize, samplesLeftOut);
  }

  /** The batches a model fixes, if the run met one. */
  public Optional<FixedBatch> fixedBatch() {
    return Optional.ofNullable(fixedBatch);
  }

  private String maskedSteps;

  @Override
  public void maskedSteps(String note) {
    maskedSteps = note;
  }

  /** What the report says of a Keras mask the run met ({@link CalibrationSink#maskedSteps}). */
  public Optional<String> maskedSteps() {
    return Optional.ofNullable(maskedSteps);
  }

  @Override
  public Optional<String> notCaptured(int layerIndex) {
    return Optional.ofNullable(notCaptured.get(layerIndex));
  }

  /** The calibration of the layer at {@code layerIndex}, if any batch reached it. */
  @Override
  public Optional<LayerCalibration> layer(int layerIndex) {
    Builder b = layers.get(layerIndex);
    return b == null
        ? Optional.empty()
        : Optional.of(new LayerCalibration(b.batches, b.population, b.firstShape, Optional.ofNullable(b.selfCheck),
            distinctShare, b.sampleGroups()));
  }

  @Override
  public void frameworkStatistics(int layerIndex, double[] mean, double[] variance) {
    Builder b = layers.get(layerIndex);
    ChannelMoments batch = b.batches.get(b.batches.size() - 1);
    int channels = mean.length;
    long[] count = new long[channels];
    double[] m2 = new double[channels];
    for (int c = 0; c < channels; c++) {
      count[c] = batch.count()[c] + batch.nonFinite()[c];
      m2[c] = variance[c] * count[c];
    }
    b.frameworkStatistics = new ChannelMoments(count, mean.clone(), m2, new long[channels]);
  }

  @Override
  public void frameworkOutput(int layerIndex, BnLayer layer, Tensor input, Tensor output, int channelAxis,
      boolean trainingMode, Precision precision) {
    // bncheck's output is computed value by value, not materialized: writing and re-reading a whole
    // layer's output in double took a third of the self-check's time (docs/performance.md)
    Builder b = layers.get(layerIndex);
    ChannelMoments batch = b.batches.get(b.batches.size() - 1);
    BatchNormOutputs.Affine mine = !trainingMode ? BatchNormOutputs.inferenceAffine(layer)
        : b.frameworkStatistics != null ? BatchNormOutputs.trainingAffine(layer, b.frameworkStatistics)
        : BatchNormOutputs.trainingAffine(layer, batch);
    b.frameworkStatistics = null;
    int n = input.size();
    int[] shape = input.shape();
    int channels = shape[channelAxis];
    int inner = 1;
    for (int d = channelAxis + 1; d < shape.length; d++) {
      inner *= shape[d];
    }
    // Non-finite inputs are a data problem (BN010), not a disagreement: TensorFlow propagates
    // them (in training mode through the whole channel's batch statistics), bncheck leaves them
    // out. Only values computed from finite inputs are compared.
    long[] nonFinite = batch.nonFinite();
    double roundings = SelfCheck.ROUNDINGS * precision.unitRoundOff();
    OutputComparison comparison = new OutputComparison();
    // channel by channel within each outer index, so that a value's channel is the loop's and not
    // a division per value (ResNet-50's 53 layers on two samples: 21 million values)
    for (int base = 0; base < n; base += channels * inner) {
      for (int c = 0; c < channels; c++) {
        if (trainingMode && nonFinite[c] > 0) {
          continue;
        }
        double scale = mine.scale()[c];
        double shift = mine.shift()[c];
        double roundOffPerX = roundings * Math.abs(scale);
        double roundOffOfShift = roundings * Math.abs(shift);
        for (int i = base + c * inner, end = i + inner; i < end; i++) {
          double x = input.get(i);
          if (Double.isFinite(x)) {
            comparison.add(x * scale + shift, output.get(i), roundOffPerX * Math.abs(x) + roundOffOfShift);
          }
        }
      }
    }
    SelfCheck check = comparison.result(trainingMode, precision);
    b.selfCheck = b.selfCheck == null ? check : b.selfCheck.merge(check);
  }

  /** bncheck's output against the framework's, value by value, for {@link #frameworkOutput}. */
  private static final class OutputComparison {
    double max;
    double beyond;
    double sumSq;
    long compared;

    void add(double ours, double theirs, double roundOff) {
      // A channel whose parameters are not finite or whose variance is negative (BN007) gives
      // NaN or infinity both ways: agreement, not a disagreement beyond round-off
      if (!Double.isFinite(theirs) && (ours == theirs || (Double.isNaN(ours) && Double.isNaN(theirs)))) {
        return;
      }
      double d = Math.abs(ours - theirs);
      max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(max, d);
      beyond = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(beyond, d - roundOff);
      sumSq += Double.isFinite(theirs) ? theirs * theirs : 0;
      compared++;
    }

    SelfCheck result(boolean trainingMode, Precision precision) {
      return new SelfCheck(trainingMode, max, Math.sqrt(sumSq / Math.max(1, compared)), compared, beyond, precision);
    }
  }

  private static final class Builder {
    /** Batches cut into sample groups: from four batches on, the batches themselves show the tails. */
    private static final int GROUPED_BATCHES = 4;
    private static final int GROUPS_PER_BATCH = 4;

    final int[] firstShape;
    final List<ChannelMoments> batches = new ArrayList<>();
    final List<ChannelMoments> groups = new ArrayList<>();
    /** Samples per group, set by the first batch: groups of one size compare alike. */
    int samplesPerGroup;
    ChannelMoments population;
    SelfCheck selfCheck;
    /** The moments of the parts of a batch received so far, until its last part. */
    ChannelMoments pending;
    /** The framework's statistics of the latest batch, until its output is compared. */
    ChannelMoments frameworkStatistics;

    Builder(int[] firstShape) {
      this.firstShape = firstShape.clone();
    }

    /**
     * Adds a batch. The first batches are reduced in groups of samples and the groups merged,
     * which reads the batch once as a whole reduction would, and keeps the groups' moments.
     */
    void add(Tensor batch, int channelAxis) {
      addPart(batch, channelAxis, batch.shape().length > 1 && channelAxis > 0 ? batch.shape()[0] : 0, true);
    }

    /**
     * Adds a part of a batch of {@code batchSamples} samples that starts at a multiple of the
     * group's samples, so that its groups are the batch's; the batch is added with its last part.
     */
    void addPart(Tensor part, int channelAxis, int batchSamples, boolean endsBatch) {
      int samples = part.shape().length > 1 && channelAxis > 0 ? part.shape()[0] : 0;
      ChannelMoments moments;
      if (batches.size() >= GROUPED_BATCHES || batchSamples < 2 || samples == 0) {
        moments = MomentsKernel.compute(part, channelAxis);
      } else {
        if (samplesPerGroup == 0) {
          samplesPerGroup = groupSize(batchSamples);
        }
        List<ChannelMoments> parts = MomentsKernel.computeGroups(part, channelAxis, samplesPerGroup);
        moments = parts.get(0);
        for (int i = 1; i < parts.size(); i++) {
          moments = moments.merge(parts.get(i));
        }
        groups.addAll(parts.subList(0, samples / samplesPerGroup));
      }
      pending = pending == null ? moments : pending.merge(moments);
      if (endsBatch) {
        add(pending);
        pending = null;
      }
    }

    static int groupSize(int batchSamples) {
      return Math.max(2, batchSamples / GROUPS_PER_BATCH);
    }

    void add(ChannelMoments moments) {
      batches.add(moments);
      population = population == null ? moments : population.merge(moments);
    }

    SampleGroups sampleGroups() {
      return groups.isEmpty() ? SampleGroups.NONE : new SampleGroups(groups, samplesPerGroup);
    }
  }
}
