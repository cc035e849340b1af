package dev.bncheck.load.onnx;

import dev.bncheck.model.BnLayer;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Keeps what a loader hands over, for tests on small models. */
final class RecordingSink implements CalibrationSink {

  /** One call of {@link #frameworkOutput}. */
  record FrameworkOutput(int layer, Tensor input, Tensor output, boolean trainingMode) {}

  final List<Tensor> batches = new ArrayList<>();
  final List<Tensor> trainingViewBatches = new ArrayList<>();
  final List<FrameworkOutput> frameworkOutputs = new ArrayList<>();

  @Override
  public boolean wantsActivations() {
    return true;
  }

  @Override
  public void accept(int layerIndex, Tensor batch, int channelAxis) {
    batches.add(batch);
  }

  @Override
  public void acceptTrainingView(int layerIndex, Tensor batch, int channelAxis) {
    trainingViewBatches.add(batch);
  }

  @Override
  public void frameworkOutput(int layerIndex, BnLayer layer, Tensor input, Tensor output, int channelAxis,
      boolean trainingMode, dev.bncheck.model.Precision precision) {
    frameworkOutputs.add(new FrameworkOutput(layerIndex, input, output, trainingMode));
  }
}
