package dev.bncheck.samples.mistakes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's {@code recalibrate} table is a run of {@code bncheck recalibrate} on each TF1
 * mistake with the held-out data and labels of {@code samples/tf-bn-mistakes/tf1-data/}. The
 * accuracies may differ from this run by {@link SampleTolerances#RECALIBRATED_ACCURACY_POINTS}
 * (another CPU's rounding); everything else is exact. Regenerate with
 * {@code mvn test -Dtest=RecalibrateTableTest -Dbncheck.regenerate=true}.
 */
class RecalibrateTableTest {

  static final Path README = Path.of("README.md");
  private static final String START = "<!-- recalibrate:start -->\n";
  private static final String END = "\n<!-- recalibrate:end -->";
  private static final Pattern ACCURACY =
      Pattern.compile("at batch size 1: ([0-9.]+%) before, ([0-9.]+%) after\\.");

  /** The rows, in the README's order: the variant and how the table names it. */
  private static final String[][] MODELS = {
      {"tf1-update-ops-not-run", "TF1, update ops never run (BN001)"},
      {"tf1-no-control-deps", "TF1, slim without control dependencies (BN001)"},
      {"tf1-unshared-cond", "TF1, `tf.cond` without `reuse` (BN001, BN008)"},
      {"tf1-stale-decay", "TF1, decay 0.999 for 300 steps (BN003)"},
      {"tf1-correct", "TF1, correct (for comparison)"},
      {"tf1-training-true", "TF1, exported with `is_training=True` (BN002, BN005)"},
  };

  @TempDir
  Path dir;

  private String render() {
    List<String> lines = new ArrayList<>(List.of("| model | batch size 1, before | after `recalibrate` |",
        "|---|---|---|"));
    Path data = BnCheckRun.DATA_DIR;
    for (String[] model : MODELS) {
      BnCheckRun run = BnCheckRun.run("recalibrate", Path.of("samples", "tf-bn-mistakes", model[0]).toString(),
          "--inputs", data.resolve("inputs.npy").toString(), "--labels", data.resolve("labels.npy").toString(),
          "--out", dir.resolve(model[0]).toString());
      Matcher m = ACCURACY.matcher(run.stdout());
      if (run.exitCode() == 0 && m.find()) {
        lines.add("| " + model[1] + " | " + m.group(1) + " | " + m.group(2) + " |");
      } else {
        assertThat(run.stderr()).as(model[0] + " exit " + run.exitCode())
            .contains("(BN002)", "recalibrating cannot help", "Re-export the model in inference mode");
        lines.add("| " + model[1] + " | refused: re-export needed | |");
      }
    }
    return String.join("\n", lines);
  }

  @Test
  void readmeRecalibrateTableIsARunOfThisVersion() throws IOException {
    String rendered = render();
    String readme = Files.readString(README);
    int from = readme.indexOf(START) + START.length();
    int to = readme.indexOf(END);
    assertThat(from).as("README.md has " + START.strip()).isGreaterThanOrEqualTo(START.length());
    if (Boolean.getBoolean("bncheck.regenerate")) {
      readme = readme.substring(0, from) + rendered + readme.substring(to);
      Files.writeString(README, readme);
      to = from + rendered.length();
    }
    List<String> expected = List.of(rendered.split("\n"));
    List<String> actual = List.of(readme.substring(from, to).split("\n"));
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.size(); i++) {
      String[] want = cells(expected.get(i));
      String[] got = cells(actual.get(i));
      assertThat(got).as(actual.get(i)).hasSameSizeAs(want);
      for (int c = 0; c < want.length; c++) {
        if (want[c].matches("[0-9.]+%") && got[c].matches("[0-9.]+%")) {
          assertThat(percent(got[c])).as(actual.get(i)).isCloseTo(percent(want[c]),
              within(SampleTolerances.RECALIBRATED_ACCURACY_POINTS));
        } else {
          assertThat(got[c]).as(actual.get(i)).isEqualTo(want[c]);
        }
      }
    }
  }

  private static String[] cells(String line) {
    return Arrays.stream(line.split("\\|", -1)).map(String::strip).toArray(String[]::new);
  }

  private static double percent(String cell) {
    return Double.parseDouble(cell.substring(0, cell.length() - 1));
  }
}
