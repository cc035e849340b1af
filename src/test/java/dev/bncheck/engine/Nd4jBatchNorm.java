package dev.bncheck.engine;

import dev.bncheck.model.BnLayer;
import dev.bncheck.model.Tensor;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * An independent reference for the engine: batch normalization in both modes, materialized
 * with ND4J for a tensor of rank 2 to 5 and any channel axis, in double.
 *
 * <p>Every operation goes through one layout: the channel axis is permuted to the end and the
 * tensor reshaped to {@code [N, C]}, so that per-channel statistics are ND4J reductions over
 * rows and the normalization is a row-vector broadcast. Nothing here shares code with the
 * engine; it is meant to be slow and obviously right.
 */
final class Nd4jBatchNorm {

  private Nd4jBatchNorm() {}

  /** Per-channel statistics of one tensor, as ND4J computes them. */
  record Moments(double[] mean, double[] biasedVariance, double[] unbiasedVariance) {}

  static Moments moments(Tensor x, int channelAxis) {
    INDArray rows = rowsByChannel(x, channelAxis);
    return new Moments(
        rows.mean(0).toDoubleVector(),
        rows.var(false, 0).toDoubleVector(),
        rows.var(true, 0).toDoubleVector());
  }

  /**
   * Training mode: {@code gamma * (x - mean_b) / sqrt(var_b + eps) + beta} with the batch's own
   * mean and biased variance. Returned in the layout of {@code x}.
   */
  static double[] trainingMode(Tensor x, int channelAxis, double[] gamma, double[] beta, double epsilon) {
    INDArray rows = rowsByChannel(x, channelAxis);
    INDArray y = normalize(rows, rows.mean(0), rows.var(false, 0), gamma, beta, epsilon);
    return fromRowsByChannel(y, x.shape(), channelAxis);
  }

  static double[] trainingMode(Tensor x, int channelAxis, BnLayer layer) {
    return trainingMode(x, channelAxis, layer.gamma(), layer.beta(), layer.epsilon());
  }

  /**
   * Inference mode: {@code gamma * (x - moving_mean) / sqrt(moving_var + eps) + beta}. Returned
   * in the layout of {@code x}.
   */
  static double[] inferenceMode(
      Tensor x, int channelAxis, double[] gamma, double[] beta, double[] movingMean, double[] movingVariance,
      double epsilon) {
    INDArray rows = rowsByChannel(x, channelAxis);
    INDArray y = normalize(rows, vector(movingMean), vector(movingVariance), gamma, beta, epsilon);
    return fromRowsByChannel(y, x.shape(), channelAxis);
  }

  static double[] inferenceMode(Tensor x, int channelAxis, BnLayer layer) {
    return inferenceMode(
        x, channelAxis, layer.gamma(), layer.beta(), layer.movingMean(), layer.movingVariance(), layer.epsilon());
  }

  /** Per channel, the sum of the squares of {@code values} laid out as {@code shape}. */
  static double[] sumOfSquaresPerChannel(double[] values, int[] shape, int channelAxis) {
    INDArray rows = rowsByChannel(new Tensor.Float64(shape, values), channelAxis);
    return rows.mul(rows).sum(0).toDoubleVector();
  }

  private static INDArray normalize(
      INDArray rows, INDArray mean, INDArray variance, double[] gamma, double[] beta, double epsilon) {
    long channels = rows.size(1);
    INDArray std = Transforms.sqrt(variance.add(epsilon), true);
    return rows.subRowVector(mean.reshape(1, channels))
        .divRowVector(std.reshape(1, channels))
        .mulRowVector(vector(gamma).reshape(1, channels))
        .addRowVector(vector(beta).reshape(1, channels));
  }

  /** {@code x} with its channel axis moved last, as {@code [N, C]} in row-major order. */
  static INDArray rowsByChannel(Tensor x, int channelAxis) {
    int[] shape = x.shape();
    double[] values = new double[x.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = x.get(i);
    }
    INDArray array = Nd4j.create(values, toLong(shape), DataType.DOUBLE);
    long channels = shape[channelAxis];
    return array.permute(channelLast(shape.length, channelAxis)).dup('c').reshape('c', values.length / channels, channels);
  }

  /** The inverse of {@link #rowsByChannel}: back to {@code shape}, flattened row-major. */
  static double[] fromRowsByChannel(INDArray rows, int[] shape, int channelAxis) {
    int[] permutation = channelLast(shape.length, channelAxis);
    long[] permutedShape = new long[shape.length];
    int[] inverse = new int[shape.length];
    for (int i = 0; i < shape.length; i++) {
      permutedShape[i] = shape[permutation[i]];
      inverse[permutation[i]] = i;
    }
    INDArray original = rows.dup('c').reshape('c', permutedShape).permute(inverse);
    return Nd4j.toFlattened('c', original).toDoubleVector();
  }

  private static int[] channelLast(int rank, int channelAxis) {
    int[] permutation = new int[rank];
    for (int i = 0, j = 0; i < rank; i++) {
      if (i != channelAxis) {
        permutation[j++] = i;
      }
    }
    permutation[rank - 1] = channelAxis;
    return permutation;
  }

  private static INDArray vector(double[] values) {
    return Nd4j.create(values, new long[] {values.length}, DataType.DOUBLE);
  }

  private static long[] toLong(int[] shape) {
    long[] out = new long[shape.length];
    for (int i = 0; i < shape.length; i++) {
      out[i] = shape[i];
    }
    return out;
  }
}
