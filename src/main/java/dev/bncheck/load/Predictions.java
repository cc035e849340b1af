package dev.bncheck.load;

import java.util.Arrays;

/**
 * A classifier's predictions on some samples: per sample, the index of the largest value of the
 * model's first float output.
 *
 * @param classes the predicted class of each sample
 * @param outputs the values per sample of that output: the number of classes of a classifier, 1
 *     for a model with one output value (whose "prediction" is always 0)
 */
public record Predictions(int[] classes, int outputs) {

  public Predictions {
    classes = classes.clone();
  }

  @Override
  public int[] classes() {
    return classes.clone();
  }

  /** How many different classes were predicted. */
  public long distinct() {
    return Arrays.stream(classes).distinct().count();
  }

  /** The share of the samples whose prediction equals {@code labels}. */
  public double accuracy(int[] labels) {
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      correct += classes[i] == labels[i] ? 1 : 0;
    }
    return (double) correct / labels.length;
  }
}
