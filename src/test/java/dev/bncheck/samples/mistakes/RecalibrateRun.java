package dev.bncheck.samples.mistakes;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One in-process {@code bncheck recalibrate MODEL --inputs DATA --labels LABELS --out FIXED}, read
 * from what it prints: the numbers the documents' recalibrate tables show. A model recalibrate
 * refuses (BN002) has no numbers. A healthy model, whose statistics already describe the held-out
 * samples within chance (or whose new statistics are no closer to them), is refused too; it runs again with {@code --force} so that the
 * tables can show it for comparison, and says so.
 */
record RecalibrateRun(boolean refused, boolean forced, boolean withinChance, int heldOut, String batch64Before, String batch64After, String batch1Before,
    String batch1After, List<Layer> layers) {

  /** A layer's worst standardized mean shift and variance ratio on the held-out samples, before and after. */
  record Layer(String name, double meanShiftBefore, double varRatioBefore, double meanShiftAfter, double varRatioAfter) {}

  private static final Pattern HELD_OUT = Pattern.compile("verified on (\\d+) held-out samples\\.");
  private static final Pattern ACCURACY = Pattern.compile("Held-out accuracy at batch size 64: ([0-9.]+%) before, "
      + "([0-9.]+%) after; at batch size 1: ([0-9.]+%) before, ([0-9.]+%) after\\.");
  private static final String LAYER_HEADER = "LAYER  VALUES  BEFORE: MEAN SHIFT  VAR RATIO  MODE RMS  AFTER:";

  static RecalibrateRun of(Path model, Path inputs, Path labels, Path out) {
    BnCheckRun run = BnCheckRun.run("recalibrate", model.toString(), "--inputs", inputs.toString(),
        "--labels", labels.toString(), "--out", out.toString());
    boolean withinChance = run.stderr().contains("recalibrate refused: the model's statistics already describe the"
        + " held-out samples within chance");
    boolean forced = run.exitCode() == 1 && (withinChance || run.stderr().contains("recalibrate refused: the new"
        + " statistics are no closer to the held-out samples than the old ones"));
    if (forced) {
      run = BnCheckRun.run("recalibrate", model.toString(), "--inputs", inputs.toString(),
          "--labels", labels.toString(), "--out", out.toString(), "--force");
    }
    if (run.exitCode() != 0) {
      assertThat(run.stderr()).as(model + " exit " + run.exitCode())
          .contains("(BN002)", "recalibrating cannot help", "Re-export the model in inference mode");
      return new RecalibrateRun(true, false, false, 0, "", "", "", "", List.of());
    }
    String stdout = run.stdout();
    Matcher heldOut = HELD_OUT.matcher(stdout);
    Matcher accuracy = ACCURACY.matcher(stdout);
    assertThat(heldOut.find() && accuracy.find()).as(stdout).isTrue();
    List<Layer> layers = new ArrayList<>();
    List<String> lines = stdout.lines().toList();
    for (int i = lines.indexOf(lines.stream().filter(l -> l.startsWith(LAYER_HEADER)).findFirst().orElseThrow()) + 1;
        i < lines.size() && !lines.get(i).isBlank(); i++) {
      String[] cells = lines.get(i).split(" {2}");
      assertThat(cells).as(lines.get(i)).hasSize(8);
      layers.add(new Layer(cells[0], Double.parseDouble(cells[2]), Double.parseDouble(cells[3]),
          Double.parseDouble(cells[5]), Double.parseDouble(cells[6])));
    }
    return new RecalibrateRun(false, forced, forced && withinChance, Integer.parseInt(heldOut.group(1)), accuracy.group(1), accuracy.group(2),
        accuracy.group(3), accuracy.group(4), List.copyOf(layers));
  }

  /** A model's name in a table, with the refusal its row overrides. */
  String label(String name) {
    return !forced ? name : name + (withinChance ? " (refused without `--force`: already right within chance)"
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
