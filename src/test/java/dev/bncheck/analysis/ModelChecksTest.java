package dev.bncheck.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.engine.BatchSizeConsistency;
import dev.bncheck.engine.CalibrationData;
import dev.bncheck.engine.LayerCalibration;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.UnresolvedLayer;
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

/** Each model-level finding code, firing on its case and silent where it must be, as ChecksTest holds the layer checks. */
class ModelChecksTest {

  /** A model's layer and data, its layers that could not be read, and the outputs a backend compared at batch size 1. */
  record Case(LayerFixture layer, List<UnresolvedLayer> unresolved, List<BatchSizeConsistency> outputs) {

    Case(LayerFixture layer, List<BatchSizeConsistency> outputs) {
      this(layer, List.of(), outputs);
    }

    Report analyze() {
      LayerContext context = layer.context();
      BnModel read = context.model();
      BnModel model = new BnModel(read.location(), read.format(), read.framework(), read.modelName(), read.layers(),
          unresolved);
      Optional<LayerCalibration> calibration = context.calibration();
      CalibrationData data = new CalibrationData() {
        @Override
        public Optional<LayerCalibration> layer(int index) {
          return calibration;
        }

        @Override
        public List<BatchSizeConsistency> batchSizeChecks() {
          return outputs;
        }
      };
      return new Analyzer(Checks.ALL, Thresholds.DEFAULTS).analyze(model, data,
          Analyzer.DataAvailability.REQUESTED, new RunInfo("test", "check", "0", "x.npy", null, FailOn.ERROR));
    }
  }

  private static final BatchSizeConsistency LOGITS_ALONE_DIFFER = new BatchSizeConsistency("logits", 32, 4, 0.5, 1.0, 2);
  private static final BatchSizeConsistency LOGITS_ALONE_AGREE = new BatchSizeConsistency("logits", 32, 4, 1e-6, 1.0, 2);

  static Stream<Arguments> cases() {
    UnresolvedLayer training = new UnresolvedLayer("head/bn", "head/bn/FusedBatchNormV3", "FusedBatchNormV3",
        "its scale is computed, not a variable", true);
    UnresolvedLayer inference = new UnresolvedLayer("head/bn", "head/bn/FusedBatchNormV3", "FusedBatchNormV3",
        "its scale is computed, not a variable", false);
    return Stream.of(
        Arguments.of("BN002", "a layer in training mode whose parameters could not be read",
            (Supplier<Case>) () -> new Case(LayerFixture.healthy(), List.of(training), List.of()), Severity.ERROR),
        Arguments.of("BN002", "a layer in inference mode whose parameters could not be read",
            (Supplier<Case>) () -> new Case(LayerFixture.healthy(), List.of(inference), List.of()), null),
        Arguments.of("BN002", "a layer without running statistics",
            (Supplier<Case>) () -> new Case(LayerFixture.healthy(), List.of(UnresolvedLayer.withoutRunningStatistics(
                "head.bn", "batch_statistics_layers[0]", "track_running_stats=False")), List.of()), Severity.ERROR),
        Arguments.of("BN005", "a sample's logits alone differ by half their RMS",
            (Supplier<Case>) () -> new Case(LayerFixture.healthy(), List.of(LOGITS_ALONE_DIFFER)), Severity.ERROR),
        Arguments.of("BN005", "a sample's logits alone within round-off",
            (Supplier<Case>) () -> new Case(LayerFixture.healthy(), List.of(LOGITS_ALONE_AGREE)), null),
        Arguments.of("BN005", "no output compared (a dump)",
            (Supplier<Case>) () -> new Case(LayerFixture.healthy(), List.of()), null),
        Arguments.of("BN011", "data scaled by 255 before the first layer",
            (Supplier<Case>) () -> new Case(ChecksTest.trainedPyTorchLayerOnDataScaledBy(255), List.of()),
            Severity.ERROR),
        Arguments.of("BN011", "healthy",
            (Supplier<Case>) () -> new Case(LayerFixture.healthy(), List.of()), null));
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("cases")
  void checkFiresExactlyOnItsCases(String code, String what, Supplier<Case> model, Severity expected) {
    Report report = model.get().analyze();
    List<Finding> findings = report.findings().stream().filter(f -> f.code().equals(code)).toList();
    if (expected == null) {
      assertThat(findings).as(what).isEmpty();
      return;
    }
    assertThat(findings).as(what).singleElement().satisfies(f -> {
      assertThat(f.severity()).isEqualTo(expected);
      assertThat(report.subjectOf(f)).isIn(Subject.MODEL, Subject.UNRESOLVED_LAYER);
      assertThat(f.message()).doesNotContain("\n");
      assertThat(f.evidence()).isNotEmpty();
      assertThat(f.fix()).isNotBlank();
    });
  }

  @Test
  void everyModelCheckHasCasesWhereItFiresAndWhereItIsSilent() {
    Set<String> firing = new HashSet<>();
    Set<String> silent = new HashSet<>();
    cases().forEach(a -> (a.get()[3] == null ? silent : firing).add((String) a.get()[0]));
    List<String> codes = Checks.MODEL.stream().map(ModelCheck::code).toList();
    assertThat(firing).containsExactlyInAnyOrderElementsOf(codes);
    assertThat(silent).containsExactlyInAnyOrderElementsOf(codes);
  }

  /**
   * A layer without running statistics is no graph exported in training mode: its finding speaks of
   * the layer, in PyTorch's words where the reason is PyTorch's setting, in general ones otherwise.
   */
  @Test
  void aLayerWithoutRunningStatisticsIsNamedByItsReasonNotAsATrainingModeExport() {
    UnresolvedLayer pytorch = UnresolvedLayer.withoutRunningStatistics("head.bn", "batch_statistics_layers[0]",
        dev.bncheck.model.UnresolvedLayer.TRACK_RUNNING_STATS_FALSE);
    UnresolvedLayer other = UnresolvedLayer.withoutRunningStatistics("norm", "batch_statistics_layers[1]",
        "use_running_average=False");
    List<Finding> found = new Case(LayerFixture.healthy(), List.of(pytorch, other), List.of()).analyze().findings()
        .stream().filter(f -> f.code().equals("BN002")).toList();
    assertThat(found).extracting(Finding::layer).containsExactly("head.bn", "norm");
    assertThat(found.get(0).message()).isEqualTo("the layer keeps no running statistics (track_running_stats=False),"
        + " so it normalizes with each batch's own statistics even in eval(): outputs depend on the other samples of"
        + " the batch, and at batch size 1 a dense layer's collapse to beta (a convolution's are normalized over"
        + " the one image's positions)");
    assertThat(found.get(0).fix()).isEqualTo(TrainingModeInGraph.FIX_NO_RUNNING_STATISTICS_PYTORCH);
    assertThat(found.get(1).message()).contains("(use_running_average=False)", "at inference as well")
        .doesNotContain("serving graph", "eval()");
    assertThat(found.get(1).fix()).isEqualTo(TrainingModeInGraph.FIX_NO_RUNNING_STATISTICS);
    assertThat(found).allSatisfy(f -> assertThat(f.fix()).doesNotContain("onnx", "is_training"));
  }

  /** The layer findings a model finding explains stay, as information naming it. */
  @Test
  void theFindingsAModelFindingExplainsBecomeInformationNamingIt() {
    Report report = new Case(ChecksTest.trainedPyTorchLayerOnDataScaledBy(255), List.of()).analyze();
    assertThat(new CalibrationDataMismatch().declaration().explains()).containsExactlyInAnyOrder("BN003", "BN004");
    assertThat(report.findings()).filteredOn(f -> f.code().equals("BN003")).singleElement().satisfies(f -> {
      assertThat(f.severity()).isEqualTo(Severity.INFO);
      assertThat(f.message()).endsWith("(a consequence of BN011: calibration data unlike the training data)");
    });
    // a uniform factor fits the first layer's own statistics as well (a variance x4 was sent to the preprocessing)
    assertThat(report.findings()).filteredOn(f -> f.code().equals("BN011")).singleElement()
        .satisfies(f -> assertThat(f.fix()).endsWith("If the data is prepared exactly as in training, the first"
            + " layer's own statistics are what differs (another checkpoint's, or changed in a conversion): compare"
            + " them with the trained model's."));
  }

  @Test
  void declarationsOfEveryCheckAreSortedAndUnique() {
    List<String> codes = Checks.DECLARATIONS.stream().map(CheckDeclaration::code).toList();
    long classes = Stream.concat(Checks.ALL.stream().map(Object::getClass), Checks.MODEL.stream().map(Object::getClass))
        .distinct().count();
    assertThat(codes).isSorted().doesNotHaveDuplicates().hasSize((int) classes);
  }
}
