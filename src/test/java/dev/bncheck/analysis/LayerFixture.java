package dev.bncheck.analysis;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.MomentumConvention;
import dev.bncheck.model.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.SplittableRandom;

/** Builds one layer, optionally with calibration data drawn from known distributions. */
final class LayerFixture {

  static final int CHANNELS = 8;

  double epsilon = 1e-3;
  Double momentum;
  MomentumConvention convention;
  String framework;
  double[] gamma = filled(1.0);
  double[] beta = filled(0.0);
  double[] movingMean = filled(0.0);
  double[] movingVariance = filled(1.0);
  double[] dataMean;
  double[] dataStd;
  int batches = 4;
  int batchSize = 64;
  /** Per batch, a shift of every channel's mean in its standard deviations: batches sorted by class. */
  double[] batchOffsets;
  Long numBatchesTracked;
  boolean nanInData;
  dev.bncheck.model.GraphFacts graph;

  static double[] filled(double v) {
    double[] a = new double[CHANNELS];
    Arrays.fill(a, v);
    return a;
  }

  /** Moving statistics equal to the data's distribution: a healthy layer. */
  static LayerFixture healthy() {
    LayerFixture f = new LayerFixture();
    f.dataMean = new double[CHANNELS];
    f.dataStd = new double[CHANNELS];
    for (int c = 0; c < CHANNELS; c++) {
      f.dataMean[c] = c - 3.0;
      f.dataStd[c] = 0.5 + 0.25 * c;
      f.movingMean[c] = f.dataMean[c];
      f.movingVariance[c] = f.dataStd[c] * f.dataStd[c];
    }
    return f;
  }

  /** Applies a change and returns this fixture, for one-expression cases. */
  LayerFixture set(java.util.function.Consumer<LayerFixture> change) {
    change.accept(this);
    return this;
  }

  /**
   * Statistics of an average that moved 17% of the way from 0/1 to data of variance 0..0.2 (about
   * 19 updates at decay 0.99), with trained gamma and beta.
   */
  void barelyMoved() {
    for (int c = 0; c < CHANNELS; c++) {
      movingVariance[c] = 0.83 + 0.17 * 0.025 * c;
      movingMean[c] = 0.01 * (c - 3);
      gamma[c] = 0.9 + 0.05 * c;
      beta[c] = 0.1 * c;
    }
  }

  LayerFixture withoutData() {
    dataMean = null;
    dataStd = null;
    return this;
  }

  LayerFixture momentum(double m, MomentumConvention c) {
    momentum = m;
    convention = c;
    return this;
  }

  BnLayer layer() {
    return new BnLayer("bn", "layers[0]", 1, epsilon,
        momentum == null ? OptionalDouble.empty() : OptionalDouble.of(momentum), convention,
        numBatchesTracked == null ? OptionalLong.empty() : OptionalLong.of(numBatchesTracked), gamma, true, beta, true,
        movingMean, movingVariance, Optional.ofNullable(graph));
  }

  Optional<LayerCalibration> calibration() {
    if (dataMean == null) {
      return Optional.empty();
    }
    CalibrationAccumulator acc = new CalibrationAccumulator();
    SplittableRandom random = new SplittableRandom(7);
    for (int b = 0; b < batches; b++) {
      float[] x = new float[batchSize * CHANNELS];
      for (int i = 0; i < x.length; i++) {
        int c = i % CHANNELS;
        double offset = batchOffsets == null ? 0 : batchOffsets[b];
        x[i] = (float) (dataMean[c] + dataStd[c] * (offset + random.nextGaussian()));
      }
      if (nanInData && b == 0) {
        x[2] = Float.NaN;
        x[3] = Float.POSITIVE_INFINITY;
      }
      acc.accept(0, new Tensor.Float32(new int[] {batchSize, CHANNELS}, x), 1);
    }
    return acc.layer(0);
  }

  LayerContext context() {
    BnLayer layer = layer();
    Optional<LayerCalibration> calibration = calibration();
    BnModel model = new BnModel("test.json", "bncheck-dump v1", framework, null, List.of(layer));
    return new LayerContext(model, 0, layer, calibration, calibration.map(c -> DivergenceMetrics.of(layer, c)),
        Thresholds.DEFAULTS);
  }
}
