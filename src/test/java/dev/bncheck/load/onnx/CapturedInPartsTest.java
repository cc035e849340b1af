package dev.bncheck.load.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.TestFiles;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.ChannelMoments;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.engine.SelfCheck;
import dev.bncheck.load.BatchOrder;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.array.InputArray;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.load.array.SampleOrder;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch whose BN inputs would take more memory than one run may capture runs in parts, cut at
 * the accumulator's sample groups: the statistics are those of the batch run whole.
 */
class CapturedInPartsTest {

  private static final Path MODEL = OnnxModelsTest.DIR.resolve("cnn-eval.onnx");
  private static final String DATA = OnnxModelsTest.DIR.resolve("calibration.npy").toString();

  /**
   * 64 samples in batches of 24: 24, 24 and 16, in groups of 6. A budget of one byte runs one
   * group at a time (the last batch as 6, 6 and 4), the default budget every batch whole.
   */
  @Test
  void aBatchRunInPartsHasTheStatisticsOfTheBatchRunWhole() throws IOException {
    CalibrationAccumulator whole = calibrate(OnnxCalibration.CAPTURE_BUDGET);
    CalibrationAccumulator parts = calibrate(1);

    assertThat(whole.batchSizeChecks().get(0).batchSize()).isEqualTo(24);
    assertThat(parts.batchSizeChecks().get(0).batchSize()).as("BN005 compares the first run's samples").isEqualTo(6);
    for (int layer = 0; layer < 2; layer++) {
      LayerCalibration a = whole.layer(layer).orElseThrow();
      LayerCalibration b = parts.layer(layer).orElseThrow();
      assertThat(b.firstShape()).isEqualTo(a.firstShape());
      assertThat(b.firstShape()[0]).isEqualTo(24);
      assertThat(b.batches()).hasSize(3);
      for (int i = 0; i < 3; i++) {
        assertSame(b.batches().get(i), a.batches().get(i));
      }
      assertSame(b.population(), a.population());
      assertThat(b.sampleGroups().samplesPerGroup()).isEqualTo(6);
      assertThat(b.sampleGroups().groups()).hasSize(10).hasSameSizeAs(a.sampleGroups().groups());
      for (int i = 0; i < a.sampleGroups().groups().size(); i++) {
        assertSame(b.sampleGroups().groups().get(i), a.sampleGroups().groups().get(i));
      }
    }
  }

  /**
   * Shuffled batches read the data's rows in the shuffled order in place of a shuffled copy: the
   * batches are those of the data shuffled first and fed in file order (the copy took 0.8 s and
   * 154 MB on ResNet-50's 256 samples).
   */
  @Test
  void shuffledBatchesAreThoseOfTheShuffledData(@TempDir Path dir) throws IOException {
    Map<String, InputArray> data = ModelInputs.readArrays(List.of(DATA));
    Tensor shuffled = ((InputArray.Numbers) SampleOrder.shuffled(data).get(ModelInputs.SINGLE_INPUT)).tensor();
    Path copy = dir.resolve("shuffled.npy");
    Files.write(copy, TestFiles.npy(((Tensor.Float32) shuffled).data(), shuffled.shape()));

    CalibrationAccumulator inPlace = calibrate(MODEL, DATA, OnnxCalibration.CAPTURE_BUDGET, BatchOrder.SHUFFLED);
    CalibrationAccumulator copied = calibrate(MODEL, copy.toString(), OnnxCalibration.CAPTURE_BUDGET, BatchOrder.FILE);
    CalibrationAccumulator fileOrder = calibrate(MODEL, DATA, OnnxCalibration.CAPTURE_BUDGET, BatchOrder.FILE);
    for (int layer = 0; layer < 2; layer++) {
      LayerCalibration a = copied.layer(layer).orElseThrow();
      LayerCalibration b = inPlace.layer(layer).orElseThrow();
      assertThat(b.batches()).hasSize(3);
      for (int i = 0; i < 3; i++) {
        assertSame(b.batches().get(i), a.batches().get(i));
      }
      assertThat(fileOrder.layer(layer).orElseThrow().batches().get(0).mean()[0]).as("another first batch")
          .isNotCloseTo(b.batches().get(0).mean()[0], within(1e-6));
    }
  }

  /**
   * The self-check's session opens beside the calibration session for a model of at most 128 MB
   * without side files, and after it otherwise: the same model with its weights in a side file
   * gets the same self-check, run by the other way.
   */
  @Test
  void theSelfCheckIsTheSameOpenedBesideOrAfter() throws IOException {
    assertThat(Files.size(MODEL)).isLessThan(OnnxCalibration.SELF_CHECK_BESIDE_LIMIT);
    CalibrationAccumulator beside = calibrate(MODEL, DATA, OnnxCalibration.CAPTURE_BUDGET);
    CalibrationAccumulator after = calibrate(OnnxModelsTest.DIR.resolve("cnn-external.onnx"), DATA,
        OnnxCalibration.CAPTURE_BUDGET);
    for (int layer = 0; layer < 2; layer++) {
      SelfCheck a = beside.layer(layer).orElseThrow().selfCheck().orElseThrow();
      SelfCheck b = after.layer(layer).orElseThrow().selfCheck().orElseThrow();
      assertThat(a.passed()).isTrue();
      assertThat(b.passed()).isTrue();
      assertThat(b.values()).isEqualTo(a.values()).isPositive();
      assertThat(b.outputRms()).isCloseTo(a.outputRms(), within(1e-6 * a.outputRms()));
    }
  }

  /** Parts merge in another order than a whole batch's groups: equal within double round-off. */
  private static void assertSame(ChannelMoments actual, ChannelMoments expected) {
    assertThat(actual.count()).isEqualTo(expected.count());
    assertThat(actual.nonFinite()).isEqualTo(expected.nonFinite());
    for (int c = 0; c < expected.channels(); c++) {
      assertThat(actual.mean()[c]).isCloseTo(expected.mean()[c], within(1e-12 * (1 + Math.abs(expected.mean()[c]))));
      assertThat(actual.m2()[c]).isCloseTo(expected.m2()[c], within(1e-12 * expected.m2()[c]));
    }
  }

  /** The whole batch where it fits the budget; else the most whole groups that fit, at least one. */
  @Test
  void partsAreWholeGroupsWithinTheBudget() {
    long mb = 1L << 20;
    assertThat(OnnxCalibration.partSamples(32, 8, 42 * mb, 256 * mb)).isEqualTo(8);
    assertThat(OnnxCalibration.partSamples(32, 8, 8 * mb, 256 * mb)).isEqualTo(32);
    assertThat(OnnxCalibration.partSamples(32, 8, 10 * mb, 256 * mb)).as("3 groups of 8 fit").isEqualTo(24);
    assertThat(OnnxCalibration.partSamples(32, 8, 300 * mb, 256 * mb)).isEqualTo(8);
    assertThat(OnnxCalibration.partSamples(3, 2, 300 * mb, 256 * mb)).isEqualTo(2);
    assertThat(OnnxCalibration.partSamples(2, 2, 300 * mb, 256 * mb)).isEqualTo(2);
    assertThat(OnnxCalibration.partSamples(32, 8, 0, 256 * mb)).as("nothing captured").isEqualTo(32);
  }

  /**
   * An operator across samples (a share of the batch's sum before the BN, an outside tester's
   * model) gives a part other BN inputs than its batch: the model's outputs on the first part
   * differ from its samples run alone (BN005, reported), and the batches run whole.
   */
  @Test
  void aModelWhoseSamplesMixRunsWholeBatches() throws IOException {
    CalibrationAccumulator whole = calibrateGraph("batch-mixing.onnx", OnnxCalibration.CAPTURE_BUDGET);
    CalibrationAccumulator parts = calibrateGraph("batch-mixing.onnx", 1);

    assertThat(parts.batchSizeChecks()).singleElement().satisfies(check -> {
      assertThat(check.batchSize()).isEqualTo(6);
      assertThat(check.consistent()).isFalse();
    });
    assertThat(whole.batchSizeChecks().get(0).consistent()).isFalse();
    LayerCalibration a = whole.layer(0).orElseThrow();
    LayerCalibration b = parts.layer(0).orElseThrow();
    assertThat(b.batches()).hasSize(1);
    assertSame(b.population(), a.population());
    assertThat(b.sampleGroups().groups()).hasSize(4);
    for (int i = 0; i < 4; i++) {
      assertSame(b.sampleGroups().groups().get(i), a.sampleGroups().groups().get(i));
    }
  }

  /**
   * Rows the graph adds to the batch (two constant samples before the BN, sliced off after it, so
   * that the outputs keep one row per sample; an outside tester's model) would be added to every
   * part: a BN input whose first dimension is not the samples makes the batches run whole, even
   * where another BN's input (the samples through a Relu) could run in parts.
   */
  @Test
  void aBnInputWithRowsOtherThanTheSamplesRunsWholeBatches() throws IOException {
    CalibrationAccumulator whole = calibrateGraph("batch-rows-added.onnx", OnnxCalibration.CAPTURE_BUDGET);
    CalibrationAccumulator parts = calibrateGraph("batch-rows-added.onnx", 1);

    LayerCalibration a = whole.layer(0).orElseThrow();
    LayerCalibration b = parts.layer(0).orElseThrow();
    assertThat(b.firstShape()).containsExactly(26, 3, 8, 8);
    assertThat(b.batches()).hasSize(1);
    assertThat(b.population().count()[0]).isEqualTo(26 * 64);
    assertSame(b.population(), a.population());
    assertThat(parts.batchSizeChecks().get(0).batchSize()).isEqualTo(24);
    assertThat(parts.layer(1).orElseThrow().batches()).hasSize(1);
    assertSame(parts.layer(1).orElseThrow().population(), whole.layer(1).orElseThrow().population());
  }

  /** A model of graphs/ on the 24 samples of batch-mixing.npy, which both take. */
  private static CalibrationAccumulator calibrateGraph(String model, long budget) throws IOException {
    return calibrate(OnnxModelsTest.DIR.resolve("graphs").resolve(model),
        OnnxModelsTest.DIR.resolve("graphs/batch-mixing.npy").toString(), budget);
  }

  private static CalibrationAccumulator calibrate(long budget) throws IOException {
    return calibrate(MODEL, DATA, budget);
  }

  private static CalibrationAccumulator calibrate(Path path, String data, long budget) throws IOException {
    return calibrate(path, data, budget, BatchOrder.FILE);
  }

  private static CalibrationAccumulator calibrate(Path path, String data, long budget, BatchOrder order)
      throws IOException {
    String file = path.toString();
    byte[] bytes = Files.readAllBytes(path);
    OnnxProto.Model model = OnnxReader.readModel(file, bytes);
    ExternalData external = new ExternalData(path);
    OnnxBnLayers.Found found = OnnxBnLayers.find(file, model, external);
    CalibrationAccumulator sink = new CalibrationAccumulator();
    OnnxCalibration.inference(path, bytes, model, found, external,
        new LoadOptions("serve", "serving_default", List.of(data), 24, Long.MAX_VALUE).withBatchOrder(order), sink,
        budget);
    return sink;
  }

  /**
   * Buffers shaped for another output size (as a model whose shapes depend on the data would
   * leave them) are refused by ONNX Runtime: the run is repeated without them, hands over the
   * same values, and later runs allocate their outputs.
   */
  @Test
  void aRunThatRefusesThePinnedBuffersRunsAgainWithout() throws IOException {
    String file = MODEL.toString();
    byte[] bytes = Files.readAllBytes(MODEL);
    OnnxProto.Model model = OnnxReader.readModel(file, bytes);
    ExternalData external = new ExternalData(MODEL);
    OnnxBnLayers.Found found = OnnxBnLayers.find(file, model, external);
    String bnInput = found.nodes().get(0).node().inputs().get(0);
    byte[] runnable = RunnableModel.build(file, bytes, model, external, List.of(bnInput), RunnableModel.Edit.NONE);
    List<OnnxInputs.Feed> feeds = OnnxInputs.match(OnnxInputs.of(model.graph()),
        ModelInputs.readArrays(List.of(DATA)));
    try (OrtRunner ort = OrtRunner.open(file, runnable, Duration.ofMinutes(1))) {
      long[] shape = ort.perSampleShapes(feeds, List.of(bnInput), DATA).get(bnInput);
      float[] expected = values(ort, feeds, bnInput, PinnedOutputs.NONE);
      PinnedOutputs right = PinnedOutputs.allocate(Map.of(bnInput, shape), 4);
      assertThat(right.pins(bnInput, 4)).isTrue();
      assertThat(values(ort, feeds, bnInput, right)).containsExactly(expected);

      long[] wrong = shape.clone();
      wrong[wrong.length - 1] += 1;
      PinnedOutputs refused = PinnedOutputs.allocate(Map.of(bnInput, wrong), 4);
      assertThat(values(ort, feeds, bnInput, refused)).containsExactly(expected);
      assertThat(refused.pins(bnInput, 4)).isFalse();
    }
  }

  private static float[] values(OrtRunner ort, List<OnnxInputs.Feed> feeds, String output, PinnedOutputs pinned) {
    float[][] out = new float[1][];
    ort.run(feeds, 0, 4, List.of(output), DATA, pinned,
        (name, tensor) -> {
          // a pinned output is read in place, and only within this call
          out[0] = new float[tensor.size()];
          for (int i = 0; i < out[0].length; i++) {
            out[0][i] = (float) tensor.get(i);
          }
        });
    return out[0];
  }
}
