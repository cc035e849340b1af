package dev.bncheck.cli;

import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelSession;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.model.Backend;
import dev.bncheck.model.BatchSizeComparison;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.MomentumConvention;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A model computed in Java, for tests of the commands without a framework: a chain of BN layers
 * on one input of shape [samples, channels], each fed {@code weight * x + offset} of what the layer
 * before it gives (the input itself for the first). Every layer normalizes with its moving
 * statistics (the inference view) or with the batch's own (the training view). Its file is one
 * line per layer ({@link #write}), as {@link #saveTo} writes it.
 */
final class FakeSession implements ModelSession {

  static final double EPSILON = 1e-3;

  /** One layer: the affine map before it and its BN parameters. */
  record Layer(String name, double weight, double offset, double[] gamma, double[] beta, double[] mean,
      double[] variance) {}

  private final Path location;
  private final LoadOptions options;
  private final List<Layer> layers;
  /** The views calibrated, in order, for tests to read. */
  final List<View> passes = new ArrayList<>();
  boolean closed;

  FakeSession(Path location, LoadOptions options) {
    this.location = location;
    this.options = options;
    this.layers = read(location);
  }

  @Override
  public Backend backend() {
    return new Backend("the fake model's runtime", "fake output");
  }

  @Override
  public BnModel model() {
    List<BnLayer> out = layers.stream().map(l -> new BnLayer(l.name(), "fake layer " + l.name(), 1, EPSILON,
        OptionalDouble.of(0.99), MomentumConvention.KERAS, OptionalLong.empty(), l.gamma(), true, l.beta(), true,
        l.mean().clone(), l.variance().clone(), java.util.Optional.empty())).toList();
    return new BnModel(location.toString(), "fake model", "fake", null, out);
  }

  @Override
  public void calibrate(View view, CalibrationSink sink) {
    passes.add(view);
    Tensor data = ModelInputs.read(options.inputs()).values().iterator().next();
    int samples = (int) Math.min(options.maxSamples(), data.shape()[0]);
    int batch = options.batchSize();
    if (view == View.TRAINING) {
      samples = (int) Math.min(samples, options.trainingViewSamples());
      for (int start = 0; start < samples; start += batch) {
        List<Tensor> inputs = forward(rows(data, start, Math.min(batch, samples - start)), true);
        for (int k = 0; k < inputs.size(); k++) {
          sink.acceptTrainingView(k, inputs.get(k), 1);
        }
      }
      return;
    }
    sink.distinctSamples(samples, samples);
    for (int start = 0; start < samples; start += batch) {
      Tensor rows = rows(data, start, Math.min(batch, samples - start));
      List<Tensor> inputs = forward(rows, false);
      for (int k = 0; k < inputs.size(); k++) {
        sink.accept(k, inputs.get(k), 1);
        if (start == 0) {
          sink.frameworkOutput(k, model().layers().get(k), inputs.get(k), normalize(k, inputs.get(k), false), 1,
              false, dev.bncheck.model.Precision.FLOAT32);
        }
      }
    }
    batchSizeConsistency(Map.of("x", rows(data, 0, samples)), batch, sink);
  }

  @Override
  public boolean offersTrainingView() {
    return passes.contains(View.INFERENCE) && options.trainingViewSamples() > 0;
  }

  @Override
  public void capture(Map<String, Tensor> data, Set<Integer> wanted, int batchSize, CalibrationSink sink) {
    Tensor all = data.values().iterator().next();
    for (int start = 0; start < all.shape()[0]; start += batchSize) {
      List<Tensor> inputs = forward(rows(all, start, Math.min(batchSize, all.shape()[0] - start)), false);
      for (int k : wanted) {
        sink.accept(k, inputs.get(k), 1);
      }
    }
  }

  @Override
  public void batchSizeConsistency(Map<String, Tensor> data, int batchSize, CalibrationSink sink) {
    Tensor all = data.values().iterator().next();
    int count = Math.min(batchSize, all.shape()[0]);
    if (count < 2) {
      return;
    }
    BatchSizeComparison comparison = new BatchSizeComparison(output(rows(all, 0, count)), count);
    for (int s = 0; s < Math.min(count, 8); s++) {
      comparison.addAlone(s, output(rows(all, s, 1)));
    }
    comparison.report("y", sink);
  }

  @Override
  public dev.bncheck.load.Predictions predictions(Map<String, Tensor> data, int batchSize) {
    Tensor y = output(data.values().iterator().next());
    int channels = y.shape()[1];
    int[] out = new int[y.shape()[0]];
    for (int s = 0; s < out.length; s++) {
      for (int c = 1; c < channels; c++) {
        out[s] = y.get(s * channels + c) > y.get(s * channels + out[s]) ? c : out[s];
      }
    }
    return new dev.bncheck.load.Predictions(out, channels);
  }

  @Override
  public void assignStatistics(int layerIndex, double[] mean, double[] variance) {
    Layer l = layers.get(layerIndex);
    layers.set(layerIndex, new Layer(l.name(), l.weight(), l.offset(), l.gamma(), l.beta(), mean.clone(),
        variance.clone()));
  }

  @Override
  public void switchToInferenceMode(int layerIndex) {
    throw new UnsupportedOperationException("the fake model has no training-mode layers");
  }

  @Override
  public void saveTo(Path target) {
    write(target, layers);
  }

  @Override
  public void close() {
    closed = true;
  }

  /** The input of every layer, each after the layers before it in the given mode. */
  private List<Tensor> forward(Tensor x, boolean training) {
    List<Tensor> inputs = new ArrayList<>();
    Tensor previous = x;
    for (int k = 0; k < layers.size(); k++) {
      Tensor in = affine(previous, layers.get(k).weight(), layers.get(k).offset());
      inputs.add(in);
      previous = normalize(k, in, training);
    }
    return inputs;
  }

  private Tensor output(Tensor x) {
    List<Tensor> inputs = forward(x, false);
    return normalize(layers.size() - 1, inputs.get(inputs.size() - 1), false);
  }

  private static Tensor affine(Tensor x, double weight, double offset) {
    float[] out = new float[x.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (weight * x.get(i) + offset);
    }
    return new Tensor.Float32(x.shape(), out);
  }

  private Tensor normalize(int k, Tensor in, boolean training) {
    Layer l = layers.get(k);
    int channels = in.shape()[1];
    int samples = in.shape()[0];
    double[] mean = l.mean();
    double[] variance = l.variance();
    if (training) {
      mean = new double[channels];
      variance = new double[channels];
      for (int i = 0; i < in.size(); i++) {
        mean[i % channels] += in.get(i) / samples;
      }
      for (int i = 0; i < in.size(); i++) {
        double d = in.get(i) - mean[i % channels];
        variance[i % channels] += d * d / samples;
      }
    }
    float[] out = new float[in.size()];
    for (int i = 0; i < out.length; i++) {
      int c = i % channels;
      out[i] = (float) ((in.get(i) - mean[c]) / Math.sqrt(variance[c] + EPSILON) * l.gamma()[c] + l.beta()[c]);
    }
    return new Tensor.Float32(in.shape(), out);
  }

  private static Tensor rows(Tensor t, int from, int count) {
    int row = t.size() / t.shape()[0];
    int[] shape = t.shape().clone();
    shape[0] = count;
    float[] out = new float[count * row];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) t.get(from * row + i);
    }
    return new Tensor.Float32(shape, out);
  }

  /** Writes a model file: per layer, its name, weight, offset, gamma, beta, mean and variance, separated by ';'. */
  static void write(Path file, List<Layer> layers) {
    List<String> lines = layers.stream().map(l -> String.join(";", l.name(), String.valueOf(l.weight()),
        String.valueOf(l.offset()), join(l.gamma()), join(l.beta()), join(l.mean()), join(l.variance()))).toList();
    try {
      Files.write(file, lines);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<Layer> read(Path file) {
    try {
      List<Layer> layers = new ArrayList<>();
      for (String line : Files.readAllLines(file)) {
        String[] f = line.split(";");
        layers.add(new Layer(f[0], Double.parseDouble(f[1]), Double.parseDouble(f[2]), values(f[3]), values(f[4]),
            values(f[5]), values(f[6])));
      }
      return layers;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String join(double[] values) {
    return Arrays.stream(values).mapToObj(String::valueOf).collect(Collectors.joining(","));
  }

  private static double[] values(String text) {
    return Arrays.stream(text.split(",")).mapToDouble(Double::parseDouble).toArray();
  }
}
