package dev.bncheck.samples.mistakes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every table of {@code recalibrate} results in the README and docs/ is a run of {@code bncheck
 * recalibrate} with held-out data and labels: the TF1 mistakes on {@code tf1-data/}, the frozen
 * Keras transfer model on {@code keras-data/}'s shifted data, and the Keras samples on
 * {@code samples/keras-cnn-*.npy}. Each model runs once and the tables are views of those runs.
 * Accuracies may differ from this run by {@link SampleTolerances#RECALIBRATED_ACCURACY_SAMPLES}
 * held-out sample and the layers' metrics by {@link SampleTolerances#RECALIBRATED_METRIC} (another
 * CPU's rounding); everything else is exact. Regenerate with
 * {@code mvn test -Dtest=RecalibrateTableTest -Dbncheck.regenerate=true}.
 */
class RecalibrateTableTest {

  static final Path README = Path.of("README.md");
  static final Path MISTAKES = Path.of("docs", "mistakes.md");
  static final Path RECALIBRATE = Path.of("docs", "recalibrate.md");

  private static final Path MISTAKES_ROOT = Path.of("samples", "tf-bn-mistakes");
  private static final Path KERAS_DATA = MISTAKES_ROOT.resolve("keras-data");

  /** A model, the data it is recalibrated and verified on, and how the README names it (null: not in the README). */
  private record Model(Path path, Path inputs, Path labels, String dataName, String readmeName) {
    String name() {
      return path.getFileName().toString();
    }
  }

  private static Model tf1(String variant, String readmeName) {
    return new Model(MISTAKES_ROOT.resolve(variant), BnCheckRun.DATA_DIR.resolve("inputs.npy"),
        BnCheckRun.DATA_DIR.resolve("labels.npy"), "TF1 held-out", readmeName);
  }

  /** The mistakes, in the tables' order. */
  private static final List<Model> MISTAKE_MODELS = List.of(
      tf1("tf1-update-ops-not-run", "TF1, update ops never run (BN001)"),
      tf1("tf1-no-control-deps", "TF1, slim without control dependencies (BN001)"),
      tf1("tf1-unshared-cond", "TF1, `tf.cond` without `reuse` (BN001, BN008)"),
      tf1("tf1-stale-decay", "TF1, decay 0.999 for 300 steps (BN003)"),
      tf1("tf1-correct", "TF1, correct (for comparison)"),
      tf1("tf1-training-true", "TF1, exported with `is_training=True` (BN002, BN005)"),
      new Model(MISTAKES_ROOT.resolve("keras-frozen-transfer"), KERAS_DATA.resolve("transfer-inputs.npy"),
          KERAS_DATA.resolve("transfer-labels.npy"), "shifted", null));

  private static final List<Model> SAMPLE_MODELS = List.of("keras-cnn-trained", "keras-cnn-untrained").stream()
      .map(name -> new Model(Path.of("samples", name), Path.of("samples", "keras-cnn-inputs.npy"),
          Path.of("samples", "keras-cnn-labels.npy"), "samples", null))
      .toList();

  private static final Map<Model, RecalibrateRun> RUNS = new LinkedHashMap<>();

  @BeforeAll
  static void recalibrateEveryModelOnce(@TempDir Path out) {
    for (Model model : concat(MISTAKE_MODELS, SAMPLE_MODELS)) {
      RUNS.put(model, RecalibrateRun.of(model.path(), model.inputs(), model.labels(), out.resolve(model.name())));
    }
  }

  @Test
  void readmeRecalibrateTableIsARunOfThisVersion() {
    List<Model> models = MISTAKE_MODELS.stream().filter(m -> m.readmeName() != null).toList();
    List<List<String>> rows = new ArrayList<>();
    for (Model model : models) {
      RecalibrateRun run = RUNS.get(model);
      rows.add(run.refused() ? List.of(model.readmeName(), "refused: re-export needed", "")
          : List.of(run.label(model.readmeName()), run.batch1Before(), run.batch1After()));
    }
    GeneratedBlock.assertTable(README, "recalibrate",
        GeneratedBlock.table(List.of("model", "batch size 1, before", "after `recalibrate`"), rows), cells(models));
  }

  @Test
  void mistakesRecalibrateTableIsARunOfThisVersion() {
    List<List<String>> rows = new ArrayList<>();
    for (Model model : MISTAKE_MODELS) {
      RecalibrateRun run = RUNS.get(model);
      String variant = "`" + model.name() + "`";
      rows.add(run.refused()
          ? List.of(variant, model.dataName(), "refused (BN002): re-export in inference mode", "", "", "", "")
          : List.of(run.label(variant), model.dataName(), String.valueOf(run.heldOut()), run.batch64Before(),
              run.batch64After(),
              run.batch1Before(), run.batch1After()));
    }
    GeneratedBlock.assertTable(MISTAKES, "recalibrate-mistakes", GeneratedBlock.table(List.of("variant",
        "data", "held-out samples", "batch 64, before", "batch 64, after", "batch 1, before", "batch 1, after"),
        rows), cells(MISTAKE_MODELS));
  }

  @Test
  void recalibrateSamplesTablesAreARunOfThisVersion() {
    List<List<String>> accuracy = new ArrayList<>();
    List<List<String>> layers = new ArrayList<>();
    List<Model> layerRows = new ArrayList<>();
    for (Model model : SAMPLE_MODELS) {
      RecalibrateRun run = RUNS.get(model);
      String name = "`" + model.name() + "`";
      accuracy.add(List.of(run.label(name), String.valueOf(run.heldOut()), run.batch64Before(), run.batch64After(),
          run.batch1Before(), run.batch1After()));
      for (RecalibrateRun.Layer layer : run.layers()) {
        layers.add(List.of(name, "`" + layer.name() + "`", metric(layer.meanShiftBefore()),
            metric(layer.meanShiftAfter()), metric(layer.varRatioBefore()), metric(layer.varRatioAfter())));
        layerRows.add(model);
      }
    }
    GeneratedBlock.assertTable(RECALIBRATE, "recalibrate-samples", GeneratedBlock.table(List.of("model",
        "held-out samples", "batch 64, before", "batch 64, after", "batch 1, before", "batch 1, after"), accuracy),
        cells(SAMPLE_MODELS));
    GeneratedBlock.assertTable(RECALIBRATE, "recalibrate-sample-layers", GeneratedBlock.table(List.of("model",
        "layer", "worst mean shift, before", "after", "variance ratio, before", "after"), layers), cells(layerRows));
  }

  private static String metric(double value) {
    return String.format(Locale.ROOT, "%.2f", value);
  }

  /**
   * Cells compared exactly, but for an accuracy (within one held-out sample of that row's run) and
   * a layer's metric (within {@link SampleTolerances#RECALIBRATED_METRIC}). Row 0 is the header, 1
   * the separator, and row {@code r} shows {@code rows.get(r - 2)}.
   */
  private static GeneratedBlock.CellMatch cells(List<Model> rows) {
    return (row, rendered, documented) -> {
      if (row >= 2 && rendered.matches("[0-9.]+%")) {
        return RUNS.get(rows.get(row - 2)).accuracyMatches(rendered, documented);
      }
      if (row >= 2 && rendered.matches("-?[0-9]+\\.[0-9]{2}") && documented.matches("-?[0-9]+\\.[0-9]{2}")) {
        return Math.abs(Double.parseDouble(rendered) - Double.parseDouble(documented))
            <= SampleTolerances.RECALIBRATED_METRIC + 1e-9;
      }
      return rendered.equals(documented);
    };
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
