package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.load.BatchOrder;
import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Checks;
import dev.bncheck.analysis.FailOn;
import dev.bncheck.analysis.Finding;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.RunInfo;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.TestFiles;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.ChannelMoments;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.engine.SelfCheck;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.array.InputArray;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.load.array.SampleOrder;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Running built models on calibration data: what reaches the BN layer, and the self-check. */
class CalibrationCaptureTest {

  static final int SAMPLES = 40;
  static final int BATCH = 16;

  @TempDir Path dir;

  /** The signature's input as a JSON tensor file, [SAMPLES, 6, 6, 3]. */
  Path inputFile(float[] data, long[] shape) throws IOException {
    ByteBuffer bytes = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(data);
    StringBuilder dims = new StringBuilder();
    for (long d : shape) {
      dims.append(dims.length() == 0 ? "" : ",").append(d);
    }
    return Files.writeString(dir.resolve("inputs.json"), "{\"dtype\":\"float32\",\"shape\":[" + dims
        + "],\"base64\":\"" + Base64.getEncoder().encodeToString(bytes.array()) + "\"}");
  }

  Path defaultInput() throws IOException {
    return inputFile(TfTestModels.inputBatch(SAMPLES, 5), new long[] {SAMPLES, 6, 6, 3});
  }

  static LoadOptions options(Path inputs) {
    return new LoadOptions("serve", "serving_default", List.of(inputs.toString()), BATCH, Long.MAX_VALUE);
  }

  static BnModel load(TfTestModels.Model model, LoadOptions options, CalibrationAccumulator sink) {
    return model.format() == TfTestModels.Format.SAVED_MODEL
        ? new BnModelFromSavedModel().load(model.path(), options, sink)
        : new BnModelFromFrozenGraph().load(model.path(), options, sink);
  }

  /** The population mean of the BN input, computed from the reference convolution. */
  static double[] expectedInputMeans() {
    double[] conv = TfTestReference.conv(TfTestModels.inputBatch(SAMPLES, 5), SAMPLES, TfTestModels.convKernel());
    return TfTestReference.batchMean(conv);
  }

  static void assertCaptured(LayerCalibration calibration, boolean trainingMode) {
    assertThat(calibration.batches()).hasSize((SAMPLES + BATCH - 1) / BATCH);
    assertThat(calibration.population().count()[0]).isEqualTo((long) SAMPLES * 6 * 6);
    double[] expected = expectedInputMeans();
    for (int c = 0; c < TfTestModels.CHANNELS; c++) {
      assertThat(calibration.population().mean()[c]).isCloseTo(expected[c], within(1e-5));
    }
    SelfCheck check = calibration.selfCheck().orElseThrow();
    assertThat(check.trainingMode()).isEqualTo(trainingMode);
    assertThat(check.passed()).isTrue();
    int corner = Math.min(6, CalibrationRun.SELF_CHECK_POSITIONS);
    assertThat(check.values()).as("a corner of the first samples of the first batch is compared, every channel")
        .isEqualTo((long) Math.min(BATCH, CalibrationRun.SELF_CHECK_SAMPLES) * corner * corner * TfTestModels.CHANNELS);
  }

  static Report analyse(BnModel model, CalibrationAccumulator data) {
    return new Analyzer(Checks.ALL, Thresholds.DEFAULTS).analyze(model, data,
        Analyzer.DataAvailability.REQUESTED, new RunInfo("test", "check", "0", "test", null, FailOn.ERROR));
  }

  @Test
  void tf1GraphIsCapturedDirectly() throws IOException {
    TfTestModels.Model model = TfTestModels.tf1FusedSavedModel(dir, TfTestModels.FusedVariant.TRAINED);
    CalibrationAccumulator data = new CalibrationAccumulator();
    load(model, options(defaultInput()), data);
    assertCaptured(data.layer(0).orElseThrow(), false);
  }

  @Test
  void layerInsideNestedFunctionsIsCapturedThroughTheInliner() throws IOException {
    TfTestModels.Model model = TfTestModels.functionSavedModel(dir, TfTestModels.FunctionVariant.NESTED);
    CalibrationAccumulator data = new CalibrationAccumulator();
    load(model, options(defaultInput()), data);
    assertCaptured(data.layer(0).orElseThrow(), false);
  }

  @Test
  void trainingViewOfAFirstLayerIsItsInferenceViewAndTf1GraphsHaveNone() throws IOException {
    Path inputs = defaultInput();
    CalibrationAccumulator functions = new CalibrationAccumulator();
    load(TfTestModels.functionSavedModel(dir.resolve("f"), TfTestModels.FunctionVariant.NESTED),
        options(inputs).withBatchOrder(BatchOrder.SHUFFLED), functions);
    LayerCalibration inference = functions.layer(0).orElseThrow();
    LayerCalibration training = functions.trainingView(0).orElseThrow();
    assertThat(training.population().mean()).containsExactly(inference.population().mean());
    CalibrationAccumulator tf1 = new CalibrationAccumulator();
    load(TfTestModels.tf1FusedSavedModel(dir.resolve("t"), TfTestModels.FusedVariant.TRAINED), options(inputs), tf1);
    assertThat(tf1.trainingView(0)).isEmpty();
  }

  /**
   * Keras 3 sample, never trained: bn1 normalizes with 0/1 at inference, so bn2's inference-mode
   * input differs from what it saw in training, where bn1 normalized with batch statistics.
   */
  @Test
  void trainingViewOfADeeperLayerSeesUpstreamLayersInTrainingMode() {
    CalibrationAccumulator data = new CalibrationAccumulator();
    new BnModelFromSavedModel().load(Path.of("samples/keras-cnn-untrained"),
        new LoadOptions("serve", "serving_default", List.of("samples/keras-cnn-inputs.npy"), 32, 128)
            .withTrainingViewSamples(Long.MAX_VALUE).withBatchOrder(BatchOrder.SHUFFLED), data);
    assertThat(data.trainingView(0).orElseThrow().population().mean())
        .containsExactly(data.layer(0).orElseThrow().population().mean());
    double[] inference = data.layer(1).orElseThrow().population().mean();
    double[] training = data.trainingView(1).orElseThrow().population().mean();
    double largest = 0;
    for (int c = 0; c < inference.length; c++) {
      largest = Math.max(largest, Math.abs(inference[c] - training[c]));
    }
    assertThat(largest).isGreaterThan(0.1);
  }

  @Test
  void decomposedPatternIsSelfCheckedAgainstItsFinalAdd() throws IOException {
    TfTestModels.Model model = TfTestModels.tf1DecomposedSavedModel(dir, TfTestModels.DecomposedVariant.TRAINED);
    CalibrationAccumulator data = new CalibrationAccumulator();
    load(model, options(defaultInput()), data);
    assertCaptured(data.layer(0).orElseThrow(), false);
  }

  @Test
  void trainingModeServingGraphIsSelfCheckedInTrainingModeAndIsBn002() throws IOException {
    TfTestModels.Model model = TfTestModels.tf1FusedSavedModel(dir, TfTestModels.FusedVariant.IS_TRAINING);
    CalibrationAccumulator data = new CalibrationAccumulator();
    BnModel loaded = load(model, options(defaultInput()), data);
    assertCaptured(data.layer(0).orElseThrow(), true);
    assertThat(analyse(loaded, data).findings()).extracting(Finding::code).contains("BN002");
  }

  @Test
  void inferenceGraphGivesEachSampleTheSameOutputAloneAsInABatch() throws IOException {
    TfTestModels.Model model = TfTestModels.functionSavedModel(dir, TfTestModels.FunctionVariant.STATEFUL);
    CalibrationAccumulator data = new CalibrationAccumulator();
    BnModel loaded = load(model, options(defaultInput()), data);
    assertThat(data.batchSizeChecks()).hasSize(1);
    assertThat(data.batchSizeChecks().get(0).batchSize()).isEqualTo(BATCH);
    assertThat(data.batchSizeChecks().get(0).samplesCompared()).isEqualTo(8);
    assertThat(data.batchSizeChecks().get(0).consistent()).isTrue();
    assertThat(analyse(loaded, data).findings()).extracting(Finding::code).doesNotContain("BN005");
  }

  @Test
  void trainingModeGraphDependsOnTheBatchAndIsBn005() throws IOException {
    TfTestModels.Model model = TfTestModels.tf1FusedSavedModel(dir, TfTestModels.FusedVariant.IS_TRAINING);
    CalibrationAccumulator data = new CalibrationAccumulator();
    BnModel loaded = load(model, options(defaultInput()), data);
    assertThat(data.batchSizeChecks().get(0).consistent()).isFalse();
    Report report = analyse(loaded, data);
    Finding batchDependence = report.findings().stream().filter(f -> f.code().equals("BN005")).findFirst().orElseThrow();
    assertThat(batchDependence.layer()).isEqualTo("signature output " + TfTestModels.OUTPUT);
    assertThat(report.findings()).extracting(Finding::code).contains("BN002");
  }

  @Test
  void frozenGraphIsFedThroughItsPlaceholder() throws IOException {
    TfTestModels.Model model = TfTestModels.frozenGraph(dir, TfTestModels.FrozenVariant.FUSED);
    CalibrationAccumulator data = new CalibrationAccumulator();
    load(model, options(defaultInput()), data);
    assertCaptured(data.layer(0).orElseThrow(), false);
  }

  @Test
  void neverUpdatedStatisticsAreFoundWithTheDataAndTrainedOnesAreNot() throws IOException {
    Path inputs = defaultInput();
    CalibrationAccumulator broken = new CalibrationAccumulator();
    BnModel neverUpdated = load(TfTestModels.tf1FusedSavedModel(dir.resolve("a"), TfTestModels.FusedVariant.NEVER_UPDATED),
        options(inputs), broken);
    assertThat(analyse(neverUpdated, broken).findings()).extracting(Finding::code).containsExactly("BN001", "BN004");
  }

  @Test
  void nonFiniteInputsAreADataProblemNotACrashOrAFailedSelfCheck() throws IOException {
    float[] data = TfTestModels.inputBatch(SAMPLES, 5);
    data[7] = Float.NaN;
    data[500] = Float.POSITIVE_INFINITY;
    Path inputs = inputFile(data, new long[] {SAMPLES, 6, 6, 3});
    for (var variant : List.of(TfTestModels.FusedVariant.TRAINED, TfTestModels.FusedVariant.IS_TRAINING)) {
      CalibrationAccumulator captured = new CalibrationAccumulator();
      BnModel loaded = load(TfTestModels.tf1FusedSavedModel(dir.resolve(variant.name()), variant), options(inputs),
          captured);
      assertThat(captured.layer(0).orElseThrow().selfCheck().orElseThrow().passed()).as(variant.name()).isTrue();
      assertThat(captured.layer(0).orElseThrow().population().totalNonFinite()).isPositive();
      assertThat(analyse(loaded, captured).findings()).extracting(Finding::code).contains("BN010");
    }
  }

  @Test
  void dataOfTheWrongShapeIsAnInputError() throws IOException {
    TfTestModels.Model model = TfTestModels.tf1FusedSavedModel(dir, TfTestModels.FusedVariant.TRAINED);
    Path wrong = inputFile(new float[SAMPLES * 5 * 5 * 3], new long[] {SAMPLES, 5, 5, 3});
    assertThatThrownBy(() -> load(model, options(wrong), new CalibrationAccumulator()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("--inputs: input: data of shape [40, 5, 5, 3] does not fit the model's input of shape [?, 6, 6, 3]"
            + " (the data's first axis lists the samples)");
  }

  @Test
  void unknownInputNameIsAnInputError() throws IOException {
    TfTestModels.Model model = TfTestModels.tf1FusedSavedModel(dir, TfTestModels.FusedVariant.TRAINED);
    Path data = defaultInput();
    LoadOptions named = new LoadOptions("serve", "serving_default", List.of("images=" + data), BATCH, Long.MAX_VALUE);
    assertThatThrownBy(() -> load(model, named, new CalibrationAccumulator()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("the model's inputs are input; give each as NAME=FILE");
  }

  /**
   * An array named after no input, beside the one the model takes: refused naming it, as for an
   * ONNX model (a misspelt name had been ignored, which leaves an input with a default at it).
   */
  @Test
  void anArrayNamedAfterNoInputIsAnInputError() throws IOException {
    TfTestModels.Model model = TfTestModels.tf1FusedSavedModel(dir, TfTestModels.FusedVariant.TRAINED);
    Path data = defaultInput();
    LoadOptions named = new LoadOptions("serve", "serving_default", List.of("input=" + data, "is_trainng=" + data),
        BATCH, Long.MAX_VALUE);
    assertThatThrownBy(() -> load(model, named, new CalibrationAccumulator()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("--inputs: is_trainng: the model has no input of this name; its inputs are input");
  }

  @Test
  void maxSamplesLimitsTheData() throws IOException {
    TfTestModels.Model model = TfTestModels.tf1FusedSavedModel(dir, TfTestModels.FusedVariant.TRAINED);
    CalibrationAccumulator data = new CalibrationAccumulator();
    load(model, new LoadOptions("serve", "serving_default", List.of(defaultInput().toString()), 8, 20), data);
    assertThat(data.layer(0).orElseThrow().batches()).hasSize(3);
    assertThat(data.layer(0).orElseThrow().population().count()[0]).isEqualTo(20L * 6 * 6);
  }

  @Test
  void trainingViewCoversTheBatchesThatStartWithinItsSamples() {
    // shuffled, both views take the samples in the same order; in the file's order the training
    // view still draws its samples from the whole file
    LoadOptions options = new LoadOptions("serve", "serving_default", List.of("samples/keras-cnn-inputs.npy"), 32, 128)
        .withBatchOrder(BatchOrder.SHUFFLED);
    CalibrationAccumulator data = new CalibrationAccumulator();
    new BnModelFromSavedModel().load(Path.of("samples/keras-cnn-untrained"), options.withTrainingViewSamples(33), data);
    LayerCalibration inference = data.layer(0).orElseThrow();
    LayerCalibration training = data.trainingView(0).orElseThrow();
    assertThat(inference.batches()).hasSize(4);
    assertThat(training.batches()).hasSize(2);
    // the first layer sees the same input in both views: the same first two batches
    assertThat(training.population().mean())
        .containsExactly(inference.batches().get(0).merge(inference.batches().get(1)).mean());

    CalibrationAccumulator none = new CalibrationAccumulator();
    new BnModelFromSavedModel().load(Path.of("samples/keras-cnn-untrained"), options.withTrainingViewSamples(0), none);
    assertThat(none.trainingView(0)).isEmpty();
    assertThat(none.layer(0).orElseThrow().batches()).hasSize(4);
  }

  /**
   * The shuffled order is read in place: its batches are those of the file shuffled beforehand
   * and read in its own order, to the bit.
   */
  @Test
  void shuffledBatchesAreThoseOfTheShuffledFileReadInOrder() throws IOException {
    Path original = Path.of("samples/keras-cnn-inputs.npy");
    Tensor.Float32 data = (Tensor.Float32) ((InputArray.Numbers) ModelInputs.readArrays(List.of(original.toString()))
        .values().iterator().next()).tensor();
    int[] order = SampleOrder.permutation(data.shape()[0]);
    int row = data.size() / data.shape()[0];
    float[] shuffled = new float[data.size()];
    for (int i = 0; i < order.length; i++) {
      System.arraycopy(data.data(), order[i] * row, shuffled, i * row, row);
    }
    Path copy = dir.resolve("shuffled.npy");
    Files.write(copy, TestFiles.npy(shuffled, data.shape()));

    CalibrationAccumulator inPlace = new CalibrationAccumulator();
    new BnModelFromSavedModel().load(Path.of("samples/keras-cnn-untrained"), new LoadOptions("serve", "serving_default",
        List.of(original.toString()), 32, 128).withBatchOrder(BatchOrder.SHUFFLED), inPlace);
    CalibrationAccumulator fromCopy = new CalibrationAccumulator();
    new BnModelFromSavedModel().load(Path.of("samples/keras-cnn-untrained"), new LoadOptions("serve", "serving_default",
        List.of(copy.toString()), 32, 128).withBatchOrder(BatchOrder.FILE), fromCopy);

    for (int layer = 0; layer < 2; layer++) {
      List<ChannelMoments> expected = fromCopy.layer(layer).orElseThrow().batches();
      List<ChannelMoments> actual = inPlace.layer(layer).orElseThrow().batches();
      assertThat(actual).hasSize(4).hasSameSizeAs(expected);
      for (int b = 0; b < expected.size(); b++) {
        assertThat(actual.get(b).mean()).as("layer %d batch %d", layer, b).containsExactly(expected.get(b).mean());
        assertThat(actual.get(b).m2()).as("layer %d batch %d", layer, b).containsExactly(expected.get(b).m2());
      }
    }
  }
}
