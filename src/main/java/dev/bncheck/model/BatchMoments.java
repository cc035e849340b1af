package dev.bncheck.model;

/**
 * The per-channel mean and sum of squared deviations (M2) of one batch whose values are all
 * finite, as a loader computed them without handing over the batch itself (TensorFlow models
 * reduce each BN input inside the graph).
 *
 * @param shape the batch's shape
 * @param channelAxis the channel axis, resolved against the shape's rank
 */
public record BatchMoments(int[] shape, int channelAxis, double[] mean, double[] m2) {

  public BatchMoments {
    shape = shape.clone();
    if (channelAxis < 0 || channelAxis >= shape.length || shape[channelAxis] != mean.length
        || m2.length != mean.length) {
      throw new IllegalArgumentException("moments of " + mean.length + " channels for a batch of shape "
          + Tensor.describeShape(shape) + " with channel axis " + channelAxis);
    }
  }

  /** Values per channel. */
  public long countPerChannel() {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n / mean.length;
  }
}
