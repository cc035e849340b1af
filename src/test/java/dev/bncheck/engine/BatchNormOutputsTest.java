package dev.bncheck.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BatchNormOutputsTest {

  /** The whole output tensor, value by value through the affine map, to compare with references. */
  static double[] materialize(BatchNormOutputs.Affine affine, Tensor x, int channelAxis) {
    int[] shape = x.shape();
    int inner = 1;
    for (int d = channelAxis + 1; d < shape.length; d++) {
      inner *= shape[d];
    }
    double[] y = new double[x.size()];
    for (int i = 0; i < y.length; i++) {
      y[i] = affine.apply((i / inner) % shape[channelAxis], x.get(i));
    }
    return y;
  }

  @Test
  void handComputedInferenceAndTrainingOutputs() {
    // x = [[1, 10], [3, 30]] (N=2, C=2); channel 0: gamma 2, beta 1, moving mean 2, var 4, eps 0.
    BnLayer layer = TestData.layer(1, new double[] {2, 1}, new double[] {1, 0}, new double[] {2, 20},
        new double[] {4, 100}, 0.0);
    Tensor x = new Tensor.Float64(new int[] {2, 2}, new double[] {1, 10, 3, 30});
    // Inference: ch0 2*(1-2)/2+1 = 0, 2*(3-2)/2+1 = 2; ch1 (10-20)/10 = -1, (30-20)/10 = 1.
    assertThat(materialize(BatchNormOutputs.inferenceAffine(layer), x, 1)).containsExactly(0, -1, 2, 1);
    // Training: ch0 batch mean 2, biased var 1 -> 2*(-1)/1+1 = -1, 3; ch1 mean 20, var 100 -> -1, 1.
    assertThat(materialize(BatchNormOutputs.trainingAffine(layer, MomentsKernel.compute(x, 1)), x, 1)).containsExactly(-1, -1, 3, 1);
  }

  @ParameterizedTest(name = "{arguments}")
  @CsvSource({"2, 1", "3, 1", "4, 3", "4, 1", "5, 4", "5, 1"})
  void bothModesMatchTheNd4jReference(int rank, int axis) {
    SplittableRandom random = new SplittableRandom(rank * 31L + axis);
    int[] shape = new int[rank];
    for (int i = 0; i < rank; i++) {
      shape[i] = 2 + random.nextInt(3);
    }
    int channels = shape[axis];
    double[] values = new double[(int) Tensor.elementCount(shape)];
    for (int i = 0; i < values.length; i++) {
      values[i] = 3 + 2 * random.nextGaussian();
    }
    Tensor x = TestData.tensor(shape, values, true);
    double[] gamma = new double[channels];
    double[] beta = new double[channels];
    double[] mean = new double[channels];
    double[] variance = new double[channels];
    for (int c = 0; c < channels; c++) {
      gamma[c] = random.nextDouble(0.5, 1.5);
      beta[c] = random.nextGaussian();
      mean[c] = random.nextDouble(-1, 4);
      variance[c] = random.nextDouble(0.1, 5);
    }
    BnLayer layer = TestData.layer(axis, gamma, beta, mean, variance, 1e-3);
    double[] inference = materialize(BatchNormOutputs.inferenceAffine(layer), x, axis);
    double[] training = materialize(BatchNormOutputs.trainingAffine(layer, MomentsKernel.compute(x, axis)), x, axis);
    double[] expectedInference = Nd4jBatchNorm.inferenceMode(x, axis, layer);
    double[] expectedTraining = Nd4jBatchNorm.trainingMode(x, axis, layer);
    for (int i = 0; i < values.length; i++) {
      assertThat(inference[i]).isCloseTo(expectedInference[i], within(1e-9));
      assertThat(training[i]).isCloseTo(expectedTraining[i], within(1e-9));
    }
  }
}
