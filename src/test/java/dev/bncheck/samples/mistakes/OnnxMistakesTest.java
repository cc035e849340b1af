package dev.bncheck.samples.mistakes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.Loaders;
import dev.bncheck.load.ModelSession;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.load.array.NpyReader;
import dev.bncheck.model.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ResNet-18-shaped PyTorch model exported to ONNX healthy and with each mistake
 * ({@code scripts/make_onnx_models.py}, {@code src/test/resources/onnx/mistakes/}): bncheck's
 * verdicts, the accuracy ONNX Runtime for Python measured when the models were made, checked
 * again through bncheck's own ONNX Runtime session, and what {@code recalibrate} recovers. The
 * table in docs/mistakes.md is this test's rendering (regenerate with
 * {@code -Dbncheck.regenerate=true}); accuracies may differ by
 * {@link SampleTolerances#COMMITTED_MODEL_ACCURACY} and recalibrated ones by
 * {@link SampleTolerances#RECALIBRATED_ACCURACY_SAMPLES} held-out sample (another CPU's rounding).
 */
class OnnxMistakesTest {

  private static final Path DIR = Path.of("src/test/resources/onnx/mistakes");
  private static final Path CALIBRATION = DIR.resolve("calibration.npy");
  private static final Path HELD_OUT = DIR.resolve("held-out.npy");
  private static final Path LABELS = DIR.resolve("held-out-labels.npy");
  private static final List<String> VARIANTS = List.of("resnet-eval", "resnet-eval-dynamo", "resnet-train",
      "resnet-stats-reset", "resnet-small-momentum");

  private static JsonNode accuracies;
  private static final Map<String, BnCheckRun> CHECKS = new TreeMap<>();
  private static final Map<String, RecalibrateRun> RECALIBRATIONS = new TreeMap<>();

  @BeforeAll
  static void runEachVariant(@TempDir Path out) throws IOException {
    accuracies = new ObjectMapper().readTree(DIR.resolve("accuracies.json").toFile()).get("variants");
    for (String variant : VARIANTS) {
      String model = DIR.resolve(variant + ".onnx").toString();
      CHECKS.put(variant, BnCheckRun.run("check", model, "--inputs", CALIBRATION.toString(), "--format", "json"));
      RECALIBRATIONS.put(variant, RecalibrateRun.of(Path.of(model), HELD_OUT, LABELS, out.resolve(variant + ".onnx")));
    }
  }

  @Test
  void eachMistakeGetsItsFindingOnEveryLayerAndTheHealthyExportsPass() {
    assertThat(counts("resnet-eval")).isEmpty();
    assertThat(counts("resnet-eval-dynamo")).isEmpty();
    assertThat(counts("resnet-train")).isEqualTo(Map.of("BN002 error", 20, "BN005 error", 1));
    assertThat(counts("resnet-stats-reset")).isEqualTo(Map.of("BN001 error", 20, "BN004 error", 20));
    // a stale layer whose channels are all within chance of the data is not flagged: most are; the
    // layers after the first are judged on the training view, their own staleness (16% to 190% here),
    // not the inference view's, where every upstream layer's adds up (to 26,870% at the last layer)
    assertThat(counts("resnet-small-momentum"))
        .hasEntrySatisfying("BN004 error", n -> assertThat(n).isGreaterThanOrEqualTo(10))
        .hasEntrySatisfying("BN003 error", n -> assertThat(n).isGreaterThanOrEqualTo(10));
    for (String variant : VARIANTS) {
      assertThat(CHECKS.get(variant).exitCode()).as(variant).isEqualTo(variant.startsWith("resnet-eval") ? 0 : 1);
    }
  }

  /** 300 updates at momentum 0.001 move an average 1 - 0.999^300 = 26% of the way. */
  @Test
  void theEarlyStopEstimateOfTheSmallMomentumModelIsNearWhatTrainingDid() {
    BnCheckRun.Finding first = CHECKS.get("resnet-small-momentum").findings().stream()
        .filter(f -> f.code().equals("BN003") && f.layer().equals("bn1")).findFirst().orElseThrow();
    Matcher moved = Pattern.compile("moved (\\d+)% of the").matcher(first.message());
    assertThat(moved.find()).as(first.message()).isTrue();
    assertThat(Integer.parseInt(moved.group(1))).isBetween(16, 36);
  }

  @Test
  void recalibrateRepairsTheStatisticsAndRefusesTheOthers() {
    assertThat(RECALIBRATIONS.get("resnet-train").refused()).isTrue();
    assertThat(RECALIBRATIONS.get("resnet-eval").withinChance()).isTrue();
    for (String variant : List.of("resnet-stats-reset", "resnet-small-momentum")) {
      RecalibrateRun run = RECALIBRATIONS.get(variant);
      assertThat(run.forced()).as(variant).isFalse();
      assertThat(percent(run.batch1After())).as(variant).isGreaterThan(percent(run.batch1Before()) + 20);
    }
  }

  @Test
  void accuraciesOfTheGeneratorAreWhatOnnxRuntimeGivesThroughBnchecksSession() {
    Map<String, Tensor> data = ModelInputs.read(List.of(HELD_OUT.toString()));
    Tensor labels = NpyReader.read(LABELS);
    for (String variant : VARIANTS) {
      Path model = DIR.resolve(variant + ".onnx");
      try (ModelSession session = Loaders.forModel(model).open(model, LoadOptions.DEFAULTS)) {
        for (int batch : new int[] {64, 1}) {
          int[] predicted = session.predictions(data, batch).classes();
          int correct = 0;
          for (int i = 0; i < predicted.length; i++) {
            correct += predicted[i] == (int) labels.get(i) ? 1 : 0;
          }
          assertThat((double) correct / predicted.length).as("%s at batch %d", variant, batch)
              .isCloseTo(accuracies.get(variant).get("batch_" + batch).asDouble(),
                  Offset.offset(SampleTolerances.COMMITTED_MODEL_ACCURACY));
        }
      }
    }
  }

  @Test
  void mistakesTableIsARunOfThisVersion() {
    List<List<String>> rows = new ArrayList<>();
    for (String variant : VARIANTS) {
      JsonNode accuracy = accuracies.get(variant);
      RecalibrateRun recalibrated = RECALIBRATIONS.get(variant);
      String repaired = recalibrated.refused() ? "refused: re-export needed"
          : recalibrated.withinChance() ? "refused: already right within chance"
          : recalibrated.batch1Before() + " → " + recalibrated.batch1After();
      rows.add(List.of("`" + variant + "`", accuracy.get("mistake").asText(), fraction(accuracy.get("batch_64")),
          fraction(accuracy.get("batch_1")), String.valueOf(CHECKS.get(variant).exitCode()), summary(variant),
          repaired));
    }
    GeneratedBlock.assertTable(RecalibrateTableTest.MISTAKES, "onnx-mistakes",
        GeneratedBlock.table(List.of("variant", "mistake", "acc @ batch 64", "acc @ batch 1", "bncheck exit",
            "findings (calibration.npy, 64 samples)", "`recalibrate` on held-out, batch 1"), rows),
        OnnxMistakesTest::cellMatches);
  }

  /** Recalibrated accuracies are rounding-dependent within a held-out sample; every other cell is exact. */
  private static boolean cellMatches(int row, String rendered, String documented) {
    if (row == 0 || rendered.equals(documented) || !rendered.contains(" → ")) {
      return rendered.equals(documented);
    }
    RecalibrateRun run = RECALIBRATIONS.get(VARIANTS.get(row - 1));
    String[] want = rendered.split(" → ");
    String[] got = documented.split(" → ");
    return got.length == 2 && run.accuracyMatches(want[0], got[0]) && run.accuracyMatches(want[1], got[1]);
  }

  private static Map<String, Integer> counts(String variant) {
    Map<String, Integer> counts = new TreeMap<>();
    CHECKS.get(variant).findings().forEach(f -> counts.merge(f.code() + " " + f.severity(), 1, Integer::sum));
    return counts;
  }

  /** e.g. {@code BN001 error ×20, BN004 error ×20}. */
  private static String summary(String variant) {
    Map<String, Integer> counts = counts(variant);
    if (counts.isEmpty()) {
      return "none";
    }
    List<String> parts = new ArrayList<>();
    counts.forEach((finding, n) -> parts.add(finding + " ×" + n));
    return String.join(", ", parts);
  }

  private static String fraction(JsonNode value) {
    return String.format(Locale.ROOT, "%.3f", value.asDouble());
  }

  private static double percent(String cell) {
    return Double.parseDouble(cell.substring(0, cell.length() - 1));
  }
}
