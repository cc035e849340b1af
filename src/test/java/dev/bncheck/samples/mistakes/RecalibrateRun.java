package dev.bncheck.samples.mistakes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One in-process {@code bncheck recalibrate MODEL --inputs DATA --labels LABELS --out FIXED}, read
 * from its JSON report: the numbers the documents' recalibrate tables show. A model recalibrate
 * refuses (BN002) has no numbers. A healthy model, whose statistics already describe the held-out
 * samples within chance (or whose new statistics are no closer to them), is refused too; it runs again with {@code --force} so that the
 * tables can show it for comparison, and says so.
 */
record RecalibrateRun(boolean refused, boolean forced, boolean withinChance, boolean unlikeTrainingData, int heldOut, String batch64Before, String batch64After, String batch1Before,
    String batch1After, List<Layer> layers) {

  /** A layer's worst standardized mean shift and variance ratio on the held-out samples, before and after. */
  record Layer(String name, double meanShiftBefore, double varRatioBefore, double meanShiftAfter, double varRatioAfter) {}

  static RecalibrateRun of(Path model, Path inputs, Path labels, Path out) {
    BnCheckRun run = BnCheckRun.run("recalibrate", model.toString(), "--inputs", inputs.toString(),
        "--labels", labels.toString(), "--out", out.toString(), "--format", "json");
    boolean withinChance = run.stderr().contains("recalibrate refused: the model's statistics already describe the"
        + " held-out samples within chance");
    boolean unlike = run.stderr().contains("recalibrate refused: [BN011]");
    boolean forced = run.exitCode() == 1 && (withinChance || unlike || run.stderr().contains("recalibrate refused:"
        + " the new statistics are no closer to the held-out samples than the old ones"));
    if (forced) {
      run = BnCheckRun.run("recalibrate", model.toString(), "--inputs", inputs.toString(),
          "--labels", labels.toString(), "--out", out.toString(), "--force", "--format", "json");
    }
    if (run.exitCode() != 0) {
      assertThat(run.stderr()).as(model + " exit " + run.exitCode())
          .contains("(BN002)", "recalibrating cannot help", "Re-export the model in inference mode");
      return new RecalibrateRun(true, false, false, false, 0, "", "", "", "", List.of());
    }
    JsonNode report;
    try {
      report = new ObjectMapper().readTree(run.stdout());
    } catch (java.io.IOException e) {
      throw new AssertionError(run.stdout(), e);
    }
    JsonNode accuracy = report.path("accuracy");
    assertThat(accuracy.isObject()).as(run.stdout()).isTrue();
    List<Layer> layers = new ArrayList<>();
    for (JsonNode layer : report.path("layers")) {
      layers.add(new Layer(layer.path("name").asText(), layer.at("/before/worst_standardized_mean_shift").asDouble(),
          layer.at("/before/worst_variance_ratio").asDouble(), layer.at("/after/worst_standardized_mean_shift").asDouble(),
          layer.at("/after/worst_variance_ratio").asDouble()));
    }
    return new RecalibrateRun(false, forced, forced && withinChance, forced && unlike,
        report.at("/data/held_out_samples").asInt(),
        percent(accuracy.path("before_batch_64")), percent(accuracy.path("after_batch_64")),
        percent(accuracy.path("before_batch_1")), percent(accuracy.path("after_batch_1")), List.copyOf(layers));
  }

  /** An accuracy as the text report prints it. */
  private static String percent(JsonNode fraction) {
    return dev.bncheck.model.Numbers.format(100 * fraction.asDouble(), 4) + "%";
  }

  /** A model's name in a table, with the refusal its row overrides. */
  String label(String name) {
    return !forced ? name : name + (withinChance ? " (refused without `--force`: already right within chance)"
        : unlikeTrainingData ? " (refused without `--force`: data unlike the training data, BN011)"
        : " (refused without `--force`: no closer)");
  }

  /**
   * Whether an accuracy a document gives for this run is this run's {@code rendered} one, up to
   * {@link SampleTolerances#RECALIBRATED_ACCURACY_SAMPLES} of its held-out samples.
   */
  boolean accuracyMatches(String rendered, String documented) {
    if (!documented.matches("[0-9.]+%")) {
      return false;
    }
    return Math.abs(percent(documented) - percent(rendered))
        <= SampleTolerances.recalibratedAccuracyPoints(heldOut);
  }

  private static double percent(String cell) {
    return Double.parseDouble(cell.substring(0, cell.length() - 1));
  }
}
