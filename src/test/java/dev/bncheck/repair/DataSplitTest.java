package dev.bncheck.repair;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.model.Tensor;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class DataSplitTest {

  /** 40 samples sorted by class, 4 classes of 10: sample i holds its class, i / 10. */
  private static Map<String, Tensor> classSorted() {
    float[] x = new float[40];
    for (int i = 0; i < x.length; i++) {
      int label = i / 10;
      x[i] = label;
    }
    return Map.of("x", new Tensor.Float32(new int[] {40, 1}, x));
  }

  /** Holding out the last samples of a class-sorted file held out one class, which recalibration never saw. */
  @Test
  void theHeldOutSamplesOfAClassSortedFileCoverEveryClass() {
    DataSplit split = DataSplit.of(classSorted(), 0.25);

    assertThat(split.calibrationSamples()).isEqualTo(30);
    assertThat(split.heldOutSamples()).isEqualTo(10);
    Tensor heldOut = split.heldOut().get("x");
    TreeSet<Double> classes = new TreeSet<>();
    for (int i = 0; i < heldOut.size(); i++) {
      classes.add(heldOut.get(i));
    }
    assertThat(classes).hasSizeGreaterThan(2);
    double sum = 0;
    for (Tensor t : new Tensor[] {split.calibration().get("x"), heldOut}) {
      for (int i = 0; i < t.size(); i++) {
        sum += t.get(i);
      }
    }
    assertThat(sum).as("every sample in exactly one part").isEqualTo(10 * (0 + 1 + 2 + 3));
  }

  @Test
  void theSplitIsTheSameOnEveryRun() {
    assertThat(((Tensor.Float32) DataSplit.of(classSorted(), 0.25).heldOut().get("x")).data())
        .isEqualTo(((Tensor.Float32) DataSplit.of(classSorted(), 0.25).heldOut().get("x")).data());
  }

  @Test
  void aValueForEveryRunGoesToBothParts() {
    Map<String, Tensor> data = new java.util.LinkedHashMap<>(classSorted());
    Tensor flag = new Tensor.Float32(new int[0], new float[] {0});
    data.put("is_training", flag);

    DataSplit split = DataSplit.of(data, 0.25);

    assertThat(split.calibration().get("is_training")).isSameAs(flag);
    assertThat(split.heldOut().get("is_training")).isSameAs(flag);
    assertThat(DataSplit.firstSamples(data, 5).get("is_training")).isSameAs(flag);
  }
}
