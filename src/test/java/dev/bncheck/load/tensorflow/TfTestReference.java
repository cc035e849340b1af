package dev.bncheck.load.tensorflow;

import static dev.bncheck.load.tensorflow.TfTestModels.CHANNELS;
import static dev.bncheck.load.tensorflow.TfTestModels.HEIGHT;
import static dev.bncheck.load.tensorflow.TfTestModels.IN_CHANNELS;
import static dev.bncheck.load.tensorflow.TfTestModels.KERNEL_SIZE;
import static dev.bncheck.load.tensorflow.TfTestModels.WIDTH;

import dev.bncheck.load.tensorflow.TfTestModels.BnParams;

/**
 * What the {@link TfTestModels} compute, by direct loops in double precision, independent of
 * TensorFlow: the 3x3 SAME conv, then BN in inference mode (moving statistics) or in training
 * mode (the batch's statistics, biased variance).
 */
public final class TfTestReference {

  private TfTestReference() {}

  /** Conv2D, stride 1, SAME padding (1 on each side), NHWC input [n,6,6,3], HWIO kernel. */
  public static double[] conv(float[] x, int n, float[] kernel) {
    double[] y = new double[n * HEIGHT * WIDTH * CHANNELS];
    int pad = KERNEL_SIZE / 2;
    for (int b = 0; b < n; b++) {
      for (int i = 0; i < HEIGHT; i++) {
        for (int j = 0; j < WIDTH; j++) {
          for (int o = 0; o < CHANNELS; o++) {
            double sum = 0;
            for (int ki = 0; ki < KERNEL_SIZE; ki++) {
              for (int kj = 0; kj < KERNEL_SIZE; kj++) {
                int si = i + ki - pad;
                int sj = j + kj - pad;
                if (si < 0 || si >= HEIGHT || sj < 0 || sj >= WIDTH) {
                  continue;
                }
                for (int c = 0; c < IN_CHANNELS; c++) {
                  sum += x[((b * HEIGHT + si) * WIDTH + sj) * IN_CHANNELS + c]
                      * kernel[((ki * KERNEL_SIZE + kj) * IN_CHANNELS + c) * CHANNELS + o];
                }
              }
            }
            y[((b * HEIGHT + i) * WIDTH + j) * CHANNELS + o] = sum;
          }
        }
      }
    }
    return y;
  }

  /** y = gamma * (x - moving_mean) / sqrt(moving_variance + eps) + beta, channels last. */
  static double[] bnInference(double[] x, BnParams p) {
    return normalize(x, toDouble(p.movingMean()), toDouble(p.movingVariance()), p);
  }

  /** BN with the batch's mean and biased variance over N, H, W, channels last. */
  static double[] bnTraining(double[] x, BnParams p) {
    return normalize(x, batchMean(x), batchVariance(x), p);
  }

  static double[] batchMean(double[] x) {
    double[] mean = new double[CHANNELS];
    int count = x.length / CHANNELS;
    for (int i = 0; i < x.length; i++) {
      mean[i % CHANNELS] += x[i];
    }
    for (int c = 0; c < CHANNELS; c++) {
      mean[c] /= count;
    }
    return mean;
  }

  /** Biased (divide by N*H*W) variance per channel. */
  static double[] batchVariance(double[] x) {
    double[] mean = batchMean(x);
    double[] var = new double[CHANNELS];
    int count = x.length / CHANNELS;
    for (int i = 0; i < x.length; i++) {
      double d = x[i] - mean[i % CHANNELS];
      var[i % CHANNELS] += d * d;
    }
    for (int c = 0; c < CHANNELS; c++) {
      var[c] /= count;
    }
    return var;
  }

  private static double[] normalize(double[] x, double[] mean, double[] var, BnParams p) {
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      int c = i % CHANNELS;
      y[i] = p.gamma()[c] * (x[i] - mean[c]) / Math.sqrt(var[c] + p.epsilon()) + p.beta()[c];
    }
    return y;
  }

  private static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }
}
