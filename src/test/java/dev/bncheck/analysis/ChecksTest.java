package dev.bncheck.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.DivergenceMetrics;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.GraphFacts;
import dev.bncheck.model.MomentumConvention;
import dev.bncheck.model.Tensor;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each finding code, firing on its case and silent where it must be. */
class ChecksTest {

  /** The cases, as (code, description, fixture, expected severity or null for silent). */
  static Stream<Arguments> cases() {
    return Stream.of(
        fires("BN001", "moving statistics at 0 and 1", () -> LayerFixture.healthy().withoutData()
            .set(f -> {
              f.movingMean = LayerFixture.filled(0);
              f.movingVariance = LayerFixture.filled(1);
            }), Severity.ERROR),
        silent("BN001", "one variance differs from 1", () -> LayerFixture.healthy().withoutData()
            .set(f -> {
              f.movingMean = LayerFixture.filled(0);
              f.movingVariance = LayerFixture.filled(1);
              f.movingVariance[5] = 0.999;
            })),
        silent("BN001", "healthy", LayerFixture::healthy),
        fires("BN002", "a FusedBatchNormV3 with is_training=true on the serving path", () -> LayerFixture.healthy()
            .set(f -> f.graph = new GraphFacts(List.of("bn/FusedBatchNormV3", "bn_1/FusedBatchNormV3"),
                "FusedBatchNormV3", List.of("bn_1/FusedBatchNormV3"))), Severity.ERROR),
        fires("BN002", "a training-mode node in the branch a signature input is_training chooses", () -> LayerFixture
            .healthy().set(f -> f.graph = new GraphFacts(List.of("cond/FusedBatchNormV3", "cond/FusedBatchNormV3_1"),
                "FusedBatchNormV3", List.of("cond/FusedBatchNormV3"), java.util.Optional.empty(),
                List.of("is_training"))), Severity.WARNING),
        silent("BN002", "inference-mode nodes only", () -> LayerFixture.healthy()
            .set(f -> f.graph = new GraphFacts(List.of("bn/FusedBatchNormV3"), "FusedBatchNormV3", List.of()))),
        silent("BN002", "a layer from a dump", LayerFixture::healthy),
        fires("BN003", "moving mean one standard deviation off", () -> LayerFixture.healthy()
            .set(f -> f.movingMean[2] += f.dataStd[2]), Severity.ERROR),
        // 256 samples, 16 tests: z = 3.227, so chance moves a mean shift by up to 0.20 and ln(ratio) by 0.29
        fires("BN003", "moving mean half a standard deviation off", () -> LayerFixture.healthy()
            .set(f -> f.movingMean[2] += 0.5 * f.dataStd[2]), Severity.WARNING),
        fires("BN003", "moving variance 2.3 times the data's", () -> LayerFixture.healthy()
            .set(f -> f.movingVariance[4] *= 2.3), Severity.WARNING),
        silent("BN003", "moving mean 0.3 standard deviations off, within chance on 256 samples", () -> LayerFixture
            .healthy().set(f -> f.movingMean[2] += 0.3 * f.dataStd[2])),
        silent("BN003", "moving variance 1.7 times the data's, within chance on 256 samples", () -> LayerFixture
            .healthy().set(f -> f.movingVariance[4] *= 1.7)),
        fires("BN003", "moving mean 0.6 standard deviations off on 16 samples: too little data", () -> LayerFixture
            .healthy().set(f -> {
              f.batches = 1;
              f.batchSize = 16;
              f.movingMean[2] += 0.6 * f.dataStd[2];
            }), Severity.INFO),
        fires("BN003", "moving variance a third of the data's", () -> LayerFixture.healthy()
            .set(f -> f.movingVariance[4] /= 3), Severity.ERROR),
        silent("BN003", "healthy", LayerFixture::healthy),
        fires("BN004", "stale statistics", () -> LayerFixture.healthy()
            .set(f -> {
              for (int c = 0; c < LayerFixture.CHANNELS; c++) {
                f.movingMean[c] = 0.3 * f.movingMean[c];
                f.movingVariance[c] = 0.7 + 0.3 * f.movingVariance[c];
              }
            }), Severity.ERROR),
        silent("BN004", "healthy", LayerFixture::healthy),
        silent("BN004", "healthy, batches sorted by class (each batch's mean a standard deviation off)", () ->
            LayerFixture.healthy().set(f -> {
              f.batchOffsets = new double[] {-1.5, -0.5, 0.5, 1.5};
              for (int c = 0; c < LayerFixture.CHANNELS; c++) {
                // the population of the four batches: variance 1 + 1.25 (the offsets' own variance)
                f.movingVariance[c] = 2.25 * f.dataStd[c] * f.dataStd[c];
              }
            })),
        silent("BN004", "healthy, batches of 4", () -> LayerFixture.healthy().set(f -> {
          f.batches = 64;
          f.batchSize = 4;
        })),
        fires("BN006", "a channel with zero variance", () -> LayerFixture.healthy().withoutData()
            .set(f -> f.movingVariance[3] = 0), Severity.WARNING),
        fires("BN006", "a variance tiny against the others but not against epsilon", () -> LayerFixture.healthy()
            .withoutData().set(f -> {
              f.epsilon = 1e-9;
              f.movingVariance[3] = 1e-6;
            }), Severity.WARNING),
        silent("BN006", "healthy", LayerFixture::healthy),
        silent("BN006", "small variances above epsilon", () -> LayerFixture.healthy().withoutData()
            .set(f -> f.movingVariance[3] = 0.006)),
        silent("BN006", "a column in small units that the data confirms", () -> LayerFixture.healthy()
            .set(f -> {
              f.epsilon = 1e-9;
              f.dataStd[3] = 1e-3;
              f.movingVariance[3] = 1e-6;
            })),
        fires("BN007", "NaN gamma", () -> LayerFixture.healthy().set(f -> f.gamma[1] = Double.NaN), Severity.ERROR),
        fires("BN007", "negative moving variance", () -> LayerFixture.healthy().withoutData()
            .set(f -> f.movingVariance[1] = -0.5), Severity.ERROR),
        fires("BN007", "infinite moving mean", () -> LayerFixture.healthy().withoutData()
            .set(f -> f.movingMean[1] = Double.POSITIVE_INFINITY), Severity.ERROR),
        fires("BN007", "negative epsilon", () -> LayerFixture.healthy().withoutData()
            .set(f -> f.epsilon = -1e-3), Severity.ERROR),
        silent("BN007", "healthy", LayerFixture::healthy),
        fires("BN008", "a training branch with its own variables", () -> LayerFixture.healthy()
            .set(f -> f.graph = new GraphFacts(List.of("cond/bn_infer/FusedBatchNormV3"), "FusedBatchNormV3", List.of(),
                java.util.Optional.of(new GraphFacts.UnsharedTraining("cond/bn_train/FusedBatchNormV3",
                    List.of("bn_1/moving_mean"), List.of("bn/moving_mean"), new double[] {0.5}, new double[] {2})), List.of())),
            Severity.ERROR),
        silent("BN008", "one set of variables", () -> LayerFixture.healthy()
            .set(f -> f.graph = new GraphFacts(List.of("bn/FusedBatchNormV3"), "FusedBatchNormV3", List.of()))),
        fires("BN009", "a Keras decay declared as PyTorch momentum", () -> LayerFixture.healthy()
            .momentum(0.99, MomentumConvention.PYTORCH).set(f -> f.epsilon = 1e-5), Severity.WARNING),
        fires("BN009", "a PyTorch momentum declared as Keras decay", () -> LayerFixture.healthy()
            .momentum(0.1, MomentumConvention.KERAS), Severity.WARNING),
        fires("BN009", "momentum outside [0, 1]", () -> LayerFixture.healthy()
            .momentum(1.5, MomentumConvention.KERAS), Severity.WARNING),
        fires("BN009", "a decay of 1 that never updates", () -> LayerFixture.healthy()
            .momentum(1.0, MomentumConvention.KERAS), Severity.WARNING),
        fires("BN009", "Keras epsilon in a PyTorch model", () -> LayerFixture.healthy()
            .momentum(0.1, MomentumConvention.PYTORCH), Severity.INFO),
        fires("BN009", "PyTorch epsilon in a Keras model", () -> LayerFixture.healthy()
            .set(f -> {
              f.epsilon = 1e-5;
              f.framework = "keras";
            }), Severity.INFO),
        fires("BN009", "epsilon 0", () -> LayerFixture.healthy().set(f -> f.epsilon = 0), Severity.WARNING),
        silent("BN009", "PyTorch defaults", () -> LayerFixture.healthy().momentum(0.1, MomentumConvention.PYTORCH)
            .set(f -> f.epsilon = 1e-5)),
        silent("BN009", "Keras defaults", () -> LayerFixture.healthy().momentum(0.99, MomentumConvention.KERAS)),
        silent("BN009", "no momentum, custom epsilon", () -> LayerFixture.healthy().set(f -> f.epsilon = 2e-4)),
        fires("BN013", "Keras's epsilon over small live columns of a PyTorch model", () -> LayerFixture.healthy()
            .momentum(0.1, MomentumConvention.PYTORCH).set(f -> smallColumns(f, 0, 2, 4, 6)), Severity.WARNING),
        fires("BN013", "Keras's epsilon over one small live column of a PyTorch model", () -> LayerFixture.healthy()
            .momentum(0.1, MomentumConvention.PYTORCH).set(f -> smallColumns(f, 3)), Severity.WARNING),
        fires("BN013", "epsilon over small live columns", () -> LayerFixture.healthy()
            .set(f -> smallColumns(f, 0, 2)), Severity.WARNING),
        silent("BN013", "healthy", LayerFixture::healthy),
        silent("BN013", "one small column in eight", () -> LayerFixture.healthy().set(f -> smallColumns(f, 3))),
        silent("BN013", "small columns whose data varies more", () -> LayerFixture.healthy()
            .set(f -> {
              smallColumns(f, 0, 2);
              f.dataStd[0] = f.dataStd[2] = 0.1;
            })),
        silent("BN013", "small columns without data", () -> LayerFixture.healthy()
            .set(f -> smallColumns(f, 0, 2)).withoutData()),
        fires("BN010", "NaN and infinity in the data", () -> LayerFixture.healthy().set(f -> f.nanInData = true),
            Severity.WARNING),
        silent("BN010", "finite data", LayerFixture::healthy),
        fires("BN012", "variances in 0.82..0.85 and means near 0 after training", () -> LayerFixture.healthy()
            .withoutData().momentum(0.99, MomentumConvention.KERAS).set(LayerFixture::barelyMoved), Severity.WARNING),
        silent("BN012", "the same statistics with gamma and beta untrained", () -> LayerFixture.healthy()
            .withoutData().set(LayerFixture::barelyMoved).set(f -> {
              f.gamma = LayerFixture.filled(1);
              f.beta = LayerFixture.filled(0);
            })),
        fires("BN012", "standardized inputs trained on batches of 8: variances around 7/8, which fit both", () ->
            LayerFixture.healthy().withoutData().set(LayerFixture::barelyMoved).set(f -> {
              for (int c = 0; c < LayerFixture.CHANNELS; c++) {
                f.movingVariance[c] = 0.87 + 0.002 * c;
              }
            }), Severity.INFO),
        silent("BN012", "standardized inputs: variances around 1", () -> LayerFixture.healthy().withoutData()
            .set(LayerFixture::barelyMoved).set(f -> f.movingVariance[0] = 1.02)),
        silent("BN012", "healthy", LayerFixture::healthy),
        // information only: fine-tuning from weights saved without the counter restarts it at 0
        fires("BN012", "num_batches_tracked 5 at PyTorch momentum 0.1: 41% of the way if training started at 0/1", () ->
            LayerFixture.healthy().withoutData().momentum(0.1, MomentumConvention.PYTORCH)
                .set(f -> f.numBatchesTracked = 5L), Severity.INFO),
        silent("BN012", "num_batches_tracked 29 at momentum 0.1: 95.3% of the way", () ->
            LayerFixture.healthy().withoutData().momentum(0.1, MomentumConvention.PYTORCH)
                .set(f -> f.numBatchesTracked = 29L)),
        fires("BN012", "num_batches_tracked 28 at momentum 0.1: 94.8% of the way", () ->
            LayerFixture.healthy().withoutData().momentum(0.1, MomentumConvention.PYTORCH)
                .set(f -> f.numBatchesTracked = 28L), Severity.INFO),
        silent("BN012", "a small count without a momentum (a cumulative average)", () ->
            LayerFixture.healthy().withoutData().set(f -> f.numBatchesTracked = 5L)),
        silent("BN012", "a small count, but with data, which BN003 judges", () ->
            LayerFixture.healthy().momentum(0.1, MomentumConvention.PYTORCH).set(f -> f.numBatchesTracked = 5L)),
        silent("BN012", "the band, but with data, which BN003 judges", () -> LayerFixture.healthy()
            .momentum(0.99, MomentumConvention.KERAS).set(LayerFixture::barelyMoved)));
  }

  private static Arguments fires(String code, String what, Supplier<LayerFixture> fixture, Severity severity) {
    return Arguments.of(code, what, fixture, severity);
  }

  private static Arguments silent(String code, String what, Supplier<LayerFixture> fixture) {
    return Arguments.of(code, what, fixture, null);
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("cases")
  void checkFiresExactlyOnItsCases(String code, String what, Supplier<LayerFixture> fixture, Severity expected) {
    Check check = Checks.ALL.stream().filter(c -> c.code().equals(code)).findFirst().orElseThrow();
    Optional<Finding> finding = check.check(fixture.get().context());
    if (expected == null) {
      assertThat(finding).as(what).isEmpty();
    } else {
      assertThat(finding).as(what).isPresent();
      Finding f = finding.get();
      assertThat(f.code()).isEqualTo(code);
      assertThat(f.severity()).isEqualTo(expected);
      assertThat(f.layer()).isEqualTo("bn");
      assertThat(f.message()).doesNotContain("\n");
      assertThat(f.evidence()).isNotEmpty();
      assertThat(f.fix()).isNotBlank();
    }
  }

  /** Columns in small units (std 0.003, as an outside tester's): epsilon 1e-3 is about 111 times their variance. */
  private static void smallColumns(LayerFixture f, int... channels) {
    for (int c : channels) {
      f.dataStd[c] = 0.003;
      f.movingVariance[c] = 9e-6;
    }
  }

  @Test
  void everyCheckHasCasesWhereItFiresAndWhereItIsSilent() {
    Set<String> firing = new HashSet<>();
    Set<String> silent = new HashSet<>();
    cases().forEach(a -> {
      Object[] args = a.get();
      (args[3] == null ? silent : firing).add((String) args[0]);
    });
    List<String> codes = Checks.ALL.stream().map(Check::code).toList();
    assertThat(firing).containsExactlyInAnyOrderElementsOf(codes);
    assertThat(silent).containsExactlyInAnyOrderElementsOf(codes);
  }

  @Test
  void staleStatisticsEstimateHowManyUpdatesTheAverageReceived() {
    double decay = 0.999;
    int updates = 300;
    double w = 1 - Math.pow(decay, updates);
    LayerFixture f = LayerFixture.healthy().momentum(decay, MomentumConvention.KERAS);
    for (int c = 0; c < LayerFixture.CHANNELS; c++) {
      f.movingMean[c] = w * f.dataMean[c];
      f.movingVariance[c] = (1 - w) + w * f.dataStd[c] * f.dataStd[c];
    }
    Finding finding = new StaleStatistics().check(f.context()).orElseThrow();
    long estimate = (Long) finding.evidence().stream().filter(e -> e.name().equals("estimated_updates"))
        .findFirst().orElseThrow().value();
    // The calibration data is a finite sample of the distributions, so the estimate is close, not exact.
    assertThat(estimate).isBetween(270L, 330L);
    assertThat(finding.message()).contains("about " + estimate + " updates at momentum 0.999 (keras convention)");
    assertThat(finding.fix()).isEqualTo(StaleStatistics.FIX_EARLY_STOP_TENSORFLOW);
  }

  /**
   * Keras 3 model.export keeps no momentum: the count is given at the common decays instead of
   * not at all (an outside tester's find), and the evidence says the momentum is unknown.
   */
  @Test
  void staleStatisticsWithoutARecordedMomentumGiveTheCountAtTheCommonDecays() {
    double w = 1 - Math.pow(0.99, 50);
    LayerFixture f = LayerFixture.healthy();
    for (int c = 0; c < LayerFixture.CHANNELS; c++) {
      f.movingMean[c] = w * f.dataMean[c];
      f.movingVariance[c] = (1 - w) + w * f.dataStd[c] * f.dataStd[c];
    }
    assertThat(f.context().layer().momentum()).isEmpty();

    Finding finding = new StaleStatistics().check(f.context()).orElseThrow();

    var counts = java.util.regex.Pattern.compile("the model does not record its momentum: that is about (\\d+) updates at"
        + " decay 0.99, or (\\d+) at 0.999").matcher(finding.message());
    assertThat(counts.find()).as(finding.message()).isTrue();
    // 50 updates at 0.99 move the average as far as about 50 x ln(0.99)/ln(0.999) = 502 at 0.999
    assertThat(Long.parseLong(counts.group(1))).isBetween(45L, 55L);
    assertThat(Long.parseLong(counts.group(2))).isBetween(450L, 550L);
    assertThat(finding.evidence()).contains(new Evidence("momentum", "unknown"))
        .noneMatch(e -> e.name().equals("estimated_updates"));
  }

  @Test
  void divergenceWithoutTheEarlyStopPatternBlamesTheData() {
    LayerFixture f = LayerFixture.healthy().momentum(0.99, MomentumConvention.KERAS);
    for (int c = 0; c < LayerFixture.CHANNELS; c++) {
      f.movingMean[c] += (c % 2 == 0 ? 1 : -1) * f.dataStd[c];
    }
    Finding finding = new StaleStatistics().check(f.context()).orElseThrow();
    assertThat(finding.fix()).isEqualTo(StaleStatistics.FIX_DATA);
    assertThat(finding.evidence()).noneMatch(e -> e.name().equals("estimated_updates"));
  }

  /** A ReLU channel that is zero on all calibration data while its moving mean says 3. */
  @Test
  void disagreementOnAConstantChannelNamesTheConstantInputInsteadOfAnInfinitePercentage() {
    LayerFixture f = LayerFixture.healthy().set(x -> {
      x.dataMean[2] = 0;
      x.dataStd[2] = 0;
      x.movingMean[2] = 3;
      x.movingVariance[2] = 1;
    });
    Finding finding = new TrainInferenceDisagreement().check(f.context()).orElseThrow();
    // channel 2 differs by 3 / sqrt(1 + eps) everywhere; the other seven channels agree
    double expectedLayerRms = 3 / Math.sqrt(1 + 1e-3) / Math.sqrt(7);
    assertThat(finding.message()).contains("worst channel 2, whose calibration input is constant")
        .doesNotContain("Infinity");
    assertThat(finding.evidence()).filteredOn(e -> e.name().equals("mode_relative_rms")).singleElement()
        .satisfies(e -> assertThat((double) e.value()).isCloseTo(expectedLayerRms, within(0.05)));
    assertThat(finding.evidence()).extracting(Evidence::name).doesNotContain("worst_channel_mode_relative_rms");
    assertThat(finding.evidence()).contains(new Evidence("constant_input_channels", 1));
  }

  /** 0.49 measured, floor 0.1, limit 0.3, z = 3 on normal data: 9 x 1.5 / (0.2401 - 0.01 - 0.09) = 96.4. */
  @Test
  void disagreementSamplesToJudgeAreHandComputed() {
    assertThat(TrainInferenceDisagreement.samplesToJudge(0.49, 0.1, 9 * 1.5, 0.3)).isEqualTo(97);
    assertThat(TrainInferenceDisagreement.samplesToJudge(0.3, 0.1, 9 * 1.5, 0.3)).isEqualTo(Long.MAX_VALUE);
    assertThat(TrainInferenceDisagreement.sampling(new double[] {1, 1}, 64)).isCloseTo(1.5 / 64, within(1e-15));
    assertThat(TrainInferenceDisagreement.sampling(new double[] {2, 2}, 64)).isCloseTo(3.0 / 64, within(1e-15));
  }

  /**
   * A divergence over the limit that 64 samples cannot tell from chance is "too little data" with
   * a count, never a silent pass (a model whose statistics lagged its last weight updates passed
   * at 64 samples); at twice that count (the estimate moves with the data) the same statistics are an
   * error.
   */
  @Test
  void disagreementBeyondTheLimitButWithinChanceSaysHowMuchDataItNeeds() {
    java.util.function.IntFunction<LayerFixture> fixture = samples -> LayerFixture.healthy().set(x -> {
      x.batches = samples / 32;
      x.batchSize = 32;
      for (int c = 0; c < LayerFixture.CHANNELS; c++) {
        x.movingMean[c] += 0.5 * x.dataStd[c];
      }
    });
    Finding little = new TrainInferenceDisagreement().check(fixture.apply(64).context()).orElseThrow();
    assertThat(little.severity()).as(little.message()).isEqualTo(Severity.INFO);
    var count = java.util.regex.Pattern.compile("about (\\d+) samples are needed").matcher(little.message());
    assertThat(count.find()).as(little.message()).isTrue();
    int needed = Integer.parseInt(count.group(1));
    assertThat(needed).as(little.message()).isBetween(65, 400);
    Finding enough = new TrainInferenceDisagreement().check(fixture.apply(32 * (2 * needed / 32 + 1)).context())
        .orElseThrow();
    assertThat(enough.severity()).as(little.message() + " | " + enough.message()).isEqualTo(Severity.ERROR);
  }

  /** Every channel constant: the layer's relative difference has no scale at all, and the message says why. */
  @Test
  void disagreementOnAnAllConstantLayerNamesTheConstantInputAndKeepsTheEvidenceFinite() {
    LayerFixture f = LayerFixture.healthy().set(x -> {
      x.dataStd = LayerFixture.filled(0);
      x.movingMean = LayerFixture.filled(10);
    });
    Finding finding = new TrainInferenceDisagreement().check(f.context()).orElseThrow();
    assertThat(finding.message()).contains("in 8 of 8 channels, while training mode outputs exactly beta in every"
        + " channel: the calibration input is constant").doesNotContain("Infinity").doesNotContain("NaN");
    assertThat(finding.evidence()).extracting(Evidence::value)
        .allSatisfy(v -> assertThat(!(v instanceof Double d) || Double.isFinite(d)).as(String.valueOf(v)).isTrue());
    assertThat(finding.evidence()).contains(new Evidence("constant_input_channels", 8));
  }

  @Test
  void neverUpdatedStatisticsExplainStaleStatisticsSoOneCauseGivesOneFinding() {
    LayerFixture f = LayerFixture.healthy().set(x -> {
      x.movingMean = LayerFixture.filled(0);
      x.movingVariance = LayerFixture.filled(1);
    });
    LayerContext context = f.context();
    Report report = analyze(context);
    assertThat(report.findings()).extracting(Finding::code).containsExactly("BN001", "BN004");
    assertThat(report.layers().get(0).checks())
        .contains(new CheckOutcome("BN003", CheckOutcome.Status.SKIPPED, "explained by BN001 on this layer"));
    assertThat(report.failed()).isTrue();
  }

  /** A PyTorch layer that recorded 300 updates at momentum 0.1 cannot hold an average stopped early. */
  @Test
  void anEarlyStopThatNumBatchesTrackedContradictsIsNotOffered() {
    double w = 0.2;
    LayerFixture f = LayerFixture.healthy().momentum(0.1, MomentumConvention.PYTORCH).set(x -> {
      x.epsilon = 1e-5;
      for (int c = 0; c < LayerFixture.CHANNELS; c++) {
        x.movingMean[c] = w * x.dataMean[c];
        x.movingVariance[c] = (1 - w) + w * x.dataStd[c] * x.dataStd[c];
      }
    });
    Finding alone = new StaleStatistics().check(f.context()).orElseThrow();
    assertThat(alone.evidence()).contains(new Evidence("likely_cause", "too_few_updates"));
    f.numBatchesTracked = 300L;
    Finding tracked = new StaleStatistics().check(f.context()).orElseThrow();
    assertThat(tracked.evidence()).contains(new Evidence("likely_cause", "data_differs"))
        .noneMatch(e -> e.name().equals("estimated_updates"));
    assertThat(tracked.message()).contains("while num_batches_tracked records 300");
    assertThat(tracked.fix()).isEqualTo(StaleStatistics.FIX_DATA);
    f.numBatchesTracked = 2L;
    assertThat(new StaleStatistics().check(f.context()).orElseThrow().message())
        .contains("which num_batches_tracked (2) confirms");
  }

  /**
   * A healthy PyTorch layer that recorded 300 updates (so no early stop explains a difference), fed
   * data scaled by {@code factor}.
   */
  static LayerFixture trainedPyTorchLayerOnDataScaledBy(double factor) {
    return LayerFixture.healthy().momentum(0.1, MomentumConvention.PYTORCH).set(x -> {
      x.epsilon = 1e-5;
      x.numBatchesTracked = 300L;
      for (int c = 0; c < LayerFixture.CHANNELS; c++) {
        x.dataMean[c] *= factor;
        x.dataStd[c] *= factor;
      }
    });
  }

  /** Data scaled by 255 before the first layer: the data, not the statistics, is named. */
  @Test
  void aConsistentShiftAtTheFirstLayerNamesPreprocessing() {
    LayerContext context = trainedPyTorchLayerOnDataScaledBy(255).context();
    Report report = analyze(context);
    Finding mismatch = report.findings().stream().filter(x -> x.code().equals("BN011")).findFirst().orElseThrow();
    assertThat(mismatch.severity()).isEqualTo(Severity.ERROR);
    assertThat(mismatch.message()).contains("8 of 8 channels are off", "about 255 times",
        "as if pixels in 0..255 reach a model trained on 0..1", "confidence high");
    assertThat(report.findings()).filteredOn(x -> x.code().equals("BN003")).singleElement()
        .satisfies(x -> {
          assertThat(x.severity()).isEqualTo(Severity.INFO);
          assertThat(x.message()).doesNotContain("updates at momentum").contains("a consequence of BN011");
        });
    assertThat(report.failed()).isTrue();
  }

  /**
   * Spreads 1.3 to 1.9 times the statistics', each channel its own: statistics lagging weights
   * that still grew fit that as well as preprocessing.
   */
  @Test
  void aModestFactorAtTheFirstLayerNamesLaggingStatisticsBesidePreprocessing() {
    LayerContext context = trainedPyTorchLayerOnDataScaledBy(1.6).set(x -> {
      for (int c = 0; c < LayerFixture.CHANNELS; c++) {
        x.dataStd[c] *= (1.3 + 0.6 * c / (LayerFixture.CHANNELS - 1)) / 1.6;
      }
    }).context();
    Report report = analyze(context);
    assertThat(report.findings()).filteredOn(x -> x.code().equals("BN011")).singleElement()
        .satisfies(x -> assertThat(x.message()).contains("Three causes", "confidence medium",
            "statistics that lag weights"));
  }

  /** The same modest factor in every channel alike is a scaling or another domain, not lagging statistics. */
  @Test
  void aModestFactorAlikeInEveryChannelNamesAScalingOrAnotherDomain() {
    Report report = analyze(trainedPyTorchLayerOnDataScaledBy(1.6).context());
    assertThat(report.findings()).filteredOn(x -> x.code().equals("BN011")).singleElement()
        .satisfies(x -> {
          assertThat(x.message()).contains("Two causes fit one factor alike in every channel (confidence medium)")
              .doesNotContain("Three causes");
          assertThat(x.evidence()).contains(new Evidence("likely_cause", "scaling_preprocessing_or_domain"));
        });
  }

  /**
   * Heavy tails widen BN011's variance test as they widen BN003's: rare outliers in the training
   * data inflate a moving variance with no preprocessing at fault (an outside tester's healthy
   * tabular models got BN011 "preprocessing" at 64 to 1024 samples).
   */
  @Test
  void bn011WeighsHeavyTailsLikeBn003() {
    LayerContext context = trainedPyTorchLayerOnDataScaledBy(1.6).context();
    var metrics = context.statisticsMetrics().orElseThrow();
    var chance = context.statisticsSamplingError().orElseThrow();
    Finding stale = new StaleStatistics().check(context).orElseThrow();
    double[] normal = new double[LayerFixture.CHANNELS];
    double[] heavy = new double[LayerFixture.CHANNELS];
    java.util.Arrays.fill(normal, 1.0);
    java.util.Arrays.fill(heavy, 20.0);

    assertThat(CalibrationDataMismatch.finding(9, context.layer(), metrics, chance, normal, normal, false,
        Thresholds.DEFAULTS, stale)).isPresent();
    assertThat(CalibrationDataMismatch.finding(9, context.layer(), metrics, chance, heavy, heavy, false,
        Thresholds.DEFAULTS, stale)).isEmpty();
  }

  /** Statistics at 0/1 with a counter of updates: the updates ran without effect, not "never ran". */
  @Test
  void neverUpdatedStatisticsWithACounterSayTheUpdatesRanWithoutEffect() {
    LayerFixture f = LayerFixture.healthy().withoutData().set(x -> {
      x.movingMean = LayerFixture.filled(0);
      x.movingVariance = LayerFixture.filled(1);
      x.numBatchesTracked = 100000L;
    });
    Finding finding = new NeverUpdatedStatistics().check(f.context()).orElseThrow();
    assertThat(finding.message()).contains("num_batches_tracked counts 100000 updates, so they ran without changing")
        .doesNotContain("never ran");
  }

  @Test
  void stalenessInOneLayerAloneIsNotBlamedOnTheData() {
    LayerFixture f = LayerFixture.healthy().set(x -> x.movingMean[2] += 2 * x.dataStd[2]);
    LayerContext context = f.context();
    Report report = analyze(context);
    assertThat(report.findings()).extracting(Finding::code).doesNotContain("BN011").contains("BN003");
  }

  /**
   * The training view runs on the first samples only: BN003 judged on it weighs the chance of
   * those samples, not of the whole file (a sorted file once gave false errors at 256 samples).
   */
  @Test
  void staleStatisticsOnTheTrainingViewWeighItsOwnSamples() {
    LayerFixture whole = LayerFixture.healthy().set(f -> {
      f.batches = 16;
      f.movingMean[2] += 0.5 * f.dataStd[2];
    });
    LayerFixture first = LayerFixture.healthy().set(f -> {
      f.batches = 1;
      f.batchSize = 16;
      f.movingMean[2] += 0.5 * f.dataStd[2];
    });
    LayerContext inference = whole.context();
    assertThat(new StaleStatistics().check(inference).orElseThrow().severity()).isEqualTo(Severity.WARNING);
    var trainingCalibration = first.calibration().orElseThrow();
    LayerContext withTrainingView = new LayerContext(inference.model(), 0, inference.layer(), inference.calibration(),
        inference.metrics(), Optional.of(dev.bncheck.engine.DivergenceMetrics.of(inference.layer(), trainingCalibration)),
        Thresholds.DEFAULTS, Optional.of(trainingCalibration), inference.statisticalTests());
    Finding finding = new StaleStatistics().check(withTrainingView).orElseThrow();
    assertThat(finding.severity()).isEqualTo(Severity.INFO);
    assertThat(finding.message()).contains("too little calibration data to judge", "on 16 samples");
  }

  /**
   * A layer whose inference-view inputs are shifted by an upstream layer (3 deviations in every
   * channel) while what reached it as in training matches its statistics: BN004, like BN003, is
   * judged on the training view and finds nothing; judged on the inference view it was an error.
   */
  @Test
  void modeDisagreementIsJudgedOnTheTrainingViewWhereBn003IsJudged() {
    LayerFixture shiftedUpstream = LayerFixture.healthy().set(f -> {
      for (int c = 0; c < LayerFixture.CHANNELS; c++) {
        f.dataMean[c] += 3 * f.dataStd[c];
      }
    });
    LayerContext inference = shiftedUpstream.context();
    assertThat(new TrainInferenceDisagreement().check(inference).orElseThrow().severity()).isEqualTo(Severity.ERROR);
    var asInTraining = LayerFixture.healthy().calibration().orElseThrow();
    LayerContext withTrainingView = new LayerContext(inference.model(), 1, inference.layer(), inference.calibration(),
        inference.metrics(), Optional.of(dev.bncheck.engine.DivergenceMetrics.of(inference.layer(), asInTraining)),
        Thresholds.DEFAULTS, Optional.of(asInTraining), inference.statisticalTests());
    assertThat(new TrainInferenceDisagreement().check(withTrainingView)).isEmpty();
    assertThat(new StaleStatistics().check(withTrainingView)).isEmpty();
    // stale statistics stay an error on the training view, which says so
    LayerFixture stale = LayerFixture.healthy().set(f -> {
      for (int c = 0; c < LayerFixture.CHANNELS; c++) {
        f.movingMean[c] -= 3 * f.dataStd[c];
      }
    });
    LayerContext staleContext = stale.context();
    var staleTraining = LayerFixture.healthy().calibration().orElseThrow();
    Finding finding = new TrainInferenceDisagreement().check(new LayerContext(staleContext.model(), 1,
        staleContext.layer(), staleContext.calibration(), staleContext.metrics(),
        Optional.of(dev.bncheck.engine.DivergenceMetrics.of(staleContext.layer(), staleTraining)), Thresholds.DEFAULTS,
        Optional.of(staleTraining), staleContext.statisticalTests())).orElseThrow();
    assertThat(finding.severity()).isEqualTo(Severity.ERROR);
    assertThat(finding.message()).startsWith("inference-mode output differs from training-mode output (training view) by");
    assertThat(finding.evidence()).contains(new Evidence("view", "training"));
  }

  /**
   * Non-finite values in the training view a layer is judged on are BN010 too: left out of the
   * statistics, an all-NaN training view judged the layer on nothing and passed it.
   */
  @Test
  void nonFiniteValuesInTheTrainingViewAreReported() {
    LayerContext inference = LayerFixture.healthy().context();
    var withNaN = LayerFixture.healthy().set(f -> f.nanInData = true).calibration().orElseThrow();
    LayerContext judgedOnIt = new LayerContext(inference.model(), 1, inference.layer(), inference.calibration(),
        inference.metrics(), Optional.of(dev.bncheck.engine.DivergenceMetrics.of(inference.layer(), withNaN)),
        Thresholds.DEFAULTS, Optional.of(withNaN), inference.statisticalTests());
    Finding finding = new NonFiniteCalibrationData().check(judgedOnIt).orElseThrow();
    assertThat(finding.severity()).isEqualTo(Severity.WARNING);
    assertThat(finding.message()).startsWith("2 NaN or infinite calibration values in its training view (every BN"
        + " layer in training mode) in channels 2, 3");
    assertThat(new NonFiniteCalibrationData().check(inference)).isEmpty();
  }

  /**
   * Channels beyond the error thresholds as measured but within chance of them, on enough samples
   * to judge a shift of the threshold itself: "too little data" with the samples that would tell,
   * not silence (an outside tester's stale CNN got that from 32 samples and passed silently on 64).
   */
  @Test
  void beyondTheErrorThresholdsWithinChanceIsTooLittleDataNotSilence() {
    LayerFixture f = LayerFixture.healthy().set(x -> {
      x.batches = 2;
      x.batchSize = 32;
      x.movingMean[1] += 0.56 * x.dataStd[1];
      x.movingMean[5] -= 0.56 * x.dataStd[5];
    });
    Finding finding = new StaleStatistics().check(f.context()).orElseThrow();
    assertThat(finding.severity()).isEqualTo(Severity.INFO);
    assertThat(finding.message()).startsWith("too little calibration data to judge the moving statistics:")
        .contains("some beyond the error thresholds as measured, but none by more than chance explains on 64 samples;"
            + " about ");
    long needed = finding.evidence().stream().filter(e -> e.name().equals("samples_needed")).findFirst()
        .map(e -> ((Number) e.value()).longValue()).orElseThrow();
    assertThat(needed).isGreaterThan(64);
  }

  /**
   * The data's tails are measured on the view the layer is judged on. What reaches a layer at
   * inference can vary far more from batch to batch than what reached it in training (an upstream
   * layer normalizing otherwise): measured there, the tails made a layer whose moving variance is
   * 4 times its data's "too uncertain to judge" (an outside tester's MLP broken at its second layer
   * passed on 256 samples); measured on the training view, it is an error.
   */
  @Test
  void tailsAreMeasuredOnTheViewTheLayerIsJudgedOn() {
    // per batch, standard deviations alternating 0.3 and 1.7 at inference, 1.22 as in training
    var inference = gaussianBatches(new double[] {0.3, 1.7});
    var training = gaussianBatches(new double[] {1.22});
    LayerFixture f = LayerFixture.healthy().momentum(0.1, MomentumConvention.PYTORCH).set(x -> {
      for (int c = 0; c < LayerFixture.CHANNELS; c++) {
        x.movingMean[c] = 0;
        x.movingVariance[c] = 4 * 1.49;
      }
    });
    BnLayer layer = f.layer();
    BnModel model = new BnModel("test.json", "bncheck-dump v1", "pytorch", null, List.of(layer));
    LayerContext onInference = new LayerContext(model, 1, layer, Optional.of(inference),
        Optional.of(DivergenceMetrics.of(layer, inference)), Thresholds.DEFAULTS);
    assertThat(new StaleStatistics().check(onInference).orElseThrow().message())
        .startsWith("too uncertain to judge the moving statistics");
    LayerContext onTraining = new LayerContext(model, 1, layer, Optional.of(inference),
        Optional.of(DivergenceMetrics.of(layer, inference)), Optional.of(DivergenceMetrics.of(layer, training)),
        Thresholds.DEFAULTS, Optional.of(training), LayerContext.testsOf(layer));
    Finding finding = new StaleStatistics().check(onTraining).orElseThrow();
    assertThat(finding.severity()).isEqualTo(Severity.ERROR);
    assertThat(finding.message()).startsWith("moving statistics differ from the calibration data (training view)");
  }

  /** 8 batches of 32 samples, normal with mean 0 and, batch by batch, the given deviations in turn. */
  private static LayerCalibration gaussianBatches(double[] deviations) {
    CalibrationAccumulator acc = new CalibrationAccumulator();
    java.util.SplittableRandom random = new java.util.SplittableRandom(11);
    for (int b = 0; b < 8; b++) {
      float[] x = new float[32 * LayerFixture.CHANNELS];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (deviations[b % deviations.length] * random.nextGaussian());
      }
      acc.accept(0, new Tensor.Float32(new int[] {32, LayerFixture.CHANNELS}, x), 1);
    }
    return acc.layer(0).orElseThrow();
  }

  /** The whole analysis of one layer's context, as check runs it on data. */
  private static Report analyze(LayerContext context) {
    return new Analyzer(Checks.ALL, Thresholds.DEFAULTS).analyze(context.model(), i -> context.calibration(),
        Analyzer.DataAvailability.REQUESTED, new RunInfo("test", "check", "0", "embedded in model", null, FailOn.ERROR));
  }

  @Test
  void checksAreSortedAndCodesUnique() {
    List<String> codes = Checks.ALL.stream().map(Check::code).toList();
    assertThat(codes).isSorted().doesNotHaveDuplicates().allMatch(c -> c.matches("BN\\d{3}"));
  }

  /**
   * A factor no usual scaling explains may be an offset: through a convolution with zero padding a
   * constant added to the input changes the spread near the borders (an outside tester's x - 0.5
   * was named "a scaling the training data did not have").
   */
  @Test
  void anUnusualFactorNamesTheOffsetItMayBe() {
    assertThat(CalibrationDataMismatch.commonScale(0.6627)).isEqualTo("a factor no usual scaling explains, or an"
        + " offset through a padded convolution");
    assertThat(CalibrationDataMismatch.commonScale(255)).isEqualTo("as if pixels in 0..255 reach a model trained on"
        + " 0..1");
  }
}
