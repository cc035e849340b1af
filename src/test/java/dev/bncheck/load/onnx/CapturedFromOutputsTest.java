package dev.bncheck.load.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.ChannelMoments;
import dev.bncheck.engine.LayerCalibration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An inference-mode BN reading a float32 Conv is captured at its output, which lets ONNX Runtime
 * fold it into the Conv: its input's statistics follow from the output and the layer's parameters.
 */
class CapturedFromOutputsTest {

  private static final Path MODEL = OnnxModelsTest.DIR.resolve("cnn-eval.onnx");

  @TempDir Path dir;

  @Test
  void aBnAfterAConvIsCapturedAtItsOutputAndATrainingModeBnAtItsInput() throws IOException {
    Map<Integer, OnnxCalibration.Capture> eval = captures(MODEL);
    OnnxBnLayers.Found found = found(MODEL);
    assertThat(eval).hasSize(2);
    eval.forEach((n, capture) -> {
      assertThat(capture.name()).isEqualTo(found.nodes().get(n).node().outputs().get(0));
      assertThat(capture.toInput()).isPresent();
    });
    Path train = OnnxModelsTest.DIR.resolve("cnn-train.onnx");
    OnnxBnLayers.Found training = found(train);
    captures(train).forEach((n, capture) -> {
      assertThat(capture.name()).isEqualTo(training.nodes().get(n).node().inputs().get(0));
      assertThat(capture.toInput()).isEmpty();
    });
  }

  /**
   * The same model with each Conv's output also a graph output (read twice, so captured where it
   * is): the statistics from the outputs equal those of the inputs within float32 round-off of the
   * folded Conv, batch by batch and group by group.
   */
  @Test
  void statisticsFromTheOutputsEqualThoseOfTheInputs() throws IOException {
    String file = MODEL.toString();
    byte[] bytes = Files.readAllBytes(MODEL);
    OnnxProto.Model model = OnnxReader.readModel(file, bytes);
    OnnxBnLayers.Found found = OnnxBnLayers.find(file, model, new ExternalData(MODEL));
    List<String> convOutputs = new ArrayList<>();
    found.nodes().forEach(bn -> convOutputs.add(bn.node().inputs().get(0)));
    Path marked = dir.resolve("cnn-eval-marked.onnx");
    Files.write(marked, RunnableModel.build(file, bytes, model, new ExternalData(MODEL), convOutputs,
        RunnableModel.Edit.NONE));
    assertThat(captures(marked).values()).allSatisfy(capture -> assertThat(capture.toInput()).isEmpty());

    CalibrationAccumulator fromOutputs = CapturedInPartsTest.calibrate(MODEL, CapturedInPartsTest.DATA,
        OnnxCalibration.CAPTURE_BUDGET);
    CalibrationAccumulator fromInputs = CapturedInPartsTest.calibrate(marked, CapturedInPartsTest.DATA,
        OnnxCalibration.CAPTURE_BUDGET);
    for (int layer = 0; layer < 2; layer++) {
      LayerCalibration a = fromInputs.layer(layer).orElseThrow();
      LayerCalibration b = fromOutputs.layer(layer).orElseThrow();
      assertThat(b.firstShape()).isEqualTo(a.firstShape());
      assertThat(b.batches()).hasSameSizeAs(a.batches());
      for (int i = 0; i < a.batches().size(); i++) {
        assertClose(b.batches().get(i), a.batches().get(i));
      }
      assertClose(b.population(), a.population());
      assertThat(b.sampleGroups().groups()).hasSameSizeAs(a.sampleGroups().groups()).isNotEmpty();
      for (int i = 0; i < a.sampleGroups().groups().size(); i++) {
        assertClose(b.sampleGroups().groups().get(i), a.sampleGroups().groups().get(i));
      }
    }
  }

  /** Means within 1e-5 of the channel's deviation, variances within 1e-5 relative. */
  private static void assertClose(ChannelMoments actual, ChannelMoments expected) {
    assertThat(actual.count()).isEqualTo(expected.count());
    for (int c = 0; c < expected.channels(); c++) {
      double deviation = Math.sqrt(expected.biasedVariance(c));
      assertThat(actual.mean()[c]).isCloseTo(expected.mean()[c], within(1e-5 * deviation));
      assertThat(actual.m2()[c]).isCloseTo(expected.m2()[c], within(1e-5 * expected.m2()[c]));
    }
  }

  private static OnnxBnLayers.Found found(Path path) throws IOException {
    String file = path.toString();
    return OnnxBnLayers.find(file, OnnxReader.readModel(file, Files.readAllBytes(path)), new ExternalData(path));
  }

  private static Map<Integer, OnnxCalibration.Capture> captures(Path path) throws IOException {
    String file = path.toString();
    OnnxProto.Model model = OnnxReader.readModel(file, Files.readAllBytes(path));
    return OnnxCalibration.captures(model.graph(), OnnxBnLayers.find(file, model, new ExternalData(path)));
  }
}
