package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.cli.CliRun;
import dev.bncheck.load.array.NpyReader;
import dev.bncheck.model.Tensor;
import dev.bncheck.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Keras sequence models that mask padded steps, saved as SavedModels (fixtures from
 * scripts/make_keras_masked_savedmodels.py): Keras's BN layers leave the masked steps out of
 * their statistics, so bncheck must too. Taken over every step, the healthy models failed with
 * BN011 (calibration data unlike the training data).
 */
class KerasMaskedModelsTest {

  private static final Path DIR = Path.of("src/test/resources/keras-masked");

  /** Steps of sequences.npy with any feature other than 0, counted in Python with numpy. */
  private static final int KEPT_SEQUENCE_STEPS = 2494;

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "masking-export, sequences.npy, Masking(0.0), 2494",
      "masking-tfsave, sequences.npy, Masking(0.0), 2494",
      "embedding-export, ids.npy, Embedding(mask_zero=True), 2560",
      // an outside tester's second round: the mask read after the BN layer by a GRU alone, the
      // padding value cast to float64, the input cast to float16 before the comparison
      "masking-gru, sequences.npy, Masking(0.0), 2494",
      "masking-float64, sequences.npy, Masking(0.0), 2494",
      "masking-mixed, sequences.npy, Masking(0.0), 2494"})
  void healthyMaskedModelPassesWithThePaddedStepsLeftOut(String model, String inputs, String mask, int keptSteps) {
    CliRun check = CliRun.of("check", DIR.resolve(model).toString(), "--inputs", DIR.resolve(inputs).toString(),
        "--format", "json");

    assertThat(check.exitCode()).as(check.out() + check.err()).isZero();
    assertThat(check.out()).contains("the steps the model's " + mask)
        .contains("\"values_per_channel\": " + keptSteps)
        .contains("\"error\": 0,");
  }

  @Test
  void keptStepsAreThoseWithAFeatureOtherThanThePadding() {
    Tensor data = NpyReader.read(DIR.resolve("sequences.npy"));
    KerasMask mask = new KerasMask(input(DataType.DT_FLOAT, -1, 16, 4), KerasMask.Rule.ANY_FEATURE_DIFFERS, 0.0, Map.of());

    Tensor.Float32 kept = mask.keptSteps(data);

    assertThat(kept.shape()).containsExactly(256, 16);
    double sum = 0;
    for (float k : kept.data()) {
      sum += k;
    }
    assertThat(sum).isEqualTo(KEPT_SEQUENCE_STEPS);
  }

  @Test
  void aStepIsMaskedOnlyWhenEveryFeatureIsThePaddingValue() {
    float nan = Float.NaN;
    Tensor data = new Tensor.Float32(new int[] {1, 4, 2}, new float[] {-1, -1, -1, 0, nan, -1, 2, 3});
    KerasMask masking = new KerasMask(input(DataType.DT_FLOAT, -1, 4, 2), KerasMask.Rule.ANY_FEATURE_DIFFERS, -1, Map.of());
    KerasMask ids = new KerasMask(input(DataType.DT_INT32, -1, 4), KerasMask.Rule.ID_DIFFERS, 0, Map.of());

    assertThat(masking.keptSteps(data).data()).containsExactly(0, 1, 1, 1);
    assertThat(ids.keptSteps(new Tensor.Float32(new int[] {2, 4}, new float[] {5, 0, 7, 0, 0, 0, 0, 1})).data())
        .containsExactly(1, 0, 1, 0, 0, 0, 0, 1);
  }

  @Test
  void changedStatisticsBehindTheMaskFailOnThatLayerAlone() {
    CliRun check = CliRun.of("check", DIR.resolve("masking-bn2-var10").toString(), "--inputs",
        DIR.resolve("sequences.npy").toString());

    assertThat(check.exitCode()).as(check.out() + check.err()).isEqualTo(1);
    assertThat(check.out()).contains("[BN003] error sequential/batch_normalization_1:")
        .doesNotContain("error sequential/batch_normalization:").doesNotContain("BN011");
  }

  @Test
  void aMaskedLayerNormalizingTheStepsIsReportedWithoutData() {
    CliRun check = CliRun.of("check", DIR.resolve("masking-axis1").toString(), "--inputs",
        DIR.resolve("sequences.npy").toString());

    assertThat(check.exitCode()).as(check.out() + check.err()).isZero();
    assertThat(check.out()).contains("behind a Keras mask, normalizing another axis than the last");
  }

  /**
   * An outside tester's models: a mask Conv1D drops before the BN layer (which trained on every
   * step), and a Lambda's {@code any(x != 0)} used as a feature, no mask at all. Both were taken
   * for masks reaching the BN layer, and both healthy models failed.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"masking-conv1d", "lambda-notequal"})
  void aComparisonThatReachesNoBnLayerAsAMaskIsNotApplied(String model) {
    CliRun check = CliRun.of("check", DIR.resolve(model).toString(), "--inputs", DIR.resolve("sequences.npy").toString());

    assertThat(check.exitCode()).as(check.out() + check.err()).isZero();
    assertThat(check.out()).contains("data: " + DIR.resolve("sequences.npy") + ", sha256").doesNotContain("masks left out").doesNotContain("masks padded steps")
        .contains("256 samples");
  }

  /**
   * Each input's mask applies to the BN layers it reaches: an outside tester's healthy model with
   * two masked sequence inputs failed with BN003 and BN004 errors when neither was applied.
   */
  @Test
  void masksOnTwoInputsApplyEachToItsOwnLayers() {
    CliRun check = CliRun.of("check", DIR.resolve("two-masked-inputs").toString(), "--inputs",
        "a=" + DIR.resolve("sequences.npy"), "--inputs", "b=" + DIR.resolve("second-sequences.npy"), "--format",
        "json");

    assertThat(check.exitCode()).as(check.out() + check.err()).isZero();
    assertThat(check.out()).contains("the steps the model's Masking(0.0) on a and Masking(0.0) on b mask left out of"
        + " the BN layers each reaches").contains("\"error\": 0,\n    \"warning\": 0,");
    // a's layer gets the kept steps of sequences.npy, b's those of second-sequences.npy (2,561, numpy)
    assertThat(check.out()).contains("\"values_per_channel\": " + KEPT_SEQUENCE_STEPS)
        .contains("\"values_per_channel\": 2561");
  }

  /**
   * NaN in every sequence's first step makes every batch's in-graph moments non-finite, so the
   * batches are reduced whole: the self-check compared the kept rows with the node's whole output
   * and ended in an internal error (exit 4). The kept steps' NaN are left out (BN010).
   */
  @Test
  void nonFiniteDataBehindTheMaskIsLeftOutAndTheSelfCheckStillPasses(@TempDir Path tmp) throws IOException {
    Tensor.Float32 data = (Tensor.Float32) NpyReader.read(DIR.resolve("sequences.npy"));
    float[] values = data.data().clone();
    for (int s = 0; s < 256; s++) {
      values[s * 16 * 4] = Float.NaN;
    }
    Path inputs = tmp.resolve("nan.npy");
    Files.write(inputs, TestFiles.npy(values, data.shape()));

    CliRun check = CliRun.of("check", DIR.resolve("masking-export").toString(), "--inputs", inputs.toString());

    assertThat(check.exitCode()).as(check.out() + check.err()).isZero();
    assertThat(check.out()).contains("[BN010] warning sequential/batch_normalization: 4096 NaN or infinite");
    assertThat(check.err()).doesNotContain("internal error");
  }

  /**
   * recalibrate writes the kept steps' statistics, as Keras computes them: it wrote the padded
   * steps' (an outside tester's second round), and check of the result then passed only by making
   * the same mistake.
   */
  @Test
  void recalibrateWritesTheStatisticsOfTheKeptSteps(@TempDir Path tmp) {
    Path fixed = tmp.resolve("fixed");
    CliRun recalibrate = CliRun.of("recalibrate", DIR.resolve("masking-bn2-var10").toString(), "--inputs",
        DIR.resolve("sequences.npy").toString(), "--out", fixed.toString());

    assertThat(recalibrate.exitCode()).as(recalibrate.out() + recalibrate.err()).isZero();
    // 205 of the 256 sequences calibrate, 51 verify: their kept steps, not 205 x 16 = 3,280
    assertThat(recalibrate.out()).containsPattern("sequential/batch_normalization_1 +1955 ");
    CliRun check = CliRun.of("check", fixed.toString(), "--inputs", DIR.resolve("sequences.npy").toString());
    assertThat(check.exitCode()).as(check.out() + check.err()).isZero();
    assertThat(check.out()).contains("Masking(0.0)");
  }

  private static ModelRunner.Input input(DataType dtype, long... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (long d : dims) {
      shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return new ModelRunner.Input("x", "x:0", dtype, shape.build());
  }
}
