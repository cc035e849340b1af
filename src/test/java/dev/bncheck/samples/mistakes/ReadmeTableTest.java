package dev.bncheck.samples.mistakes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bncheck.samples.mistakes.Tf1MistakesGenerator.Variant;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The tables of the mistakes in the README and docs/mistakes.md are the ones the generators wrote
 * from their real runs, and the verdicts in them are what bncheck says today about the committed
 * models.
 */
class ReadmeTableTest {

  private static final Path ROOT = Path.of("samples", "tf-bn-mistakes");

  private static List<String> tableRows(String folder) throws IOException {
    return Files.readAllLines(ROOT.resolve(folder).resolve("README.md")).stream()
        .filter(line -> line.startsWith("|")).toList();
  }

  /** In the README and in docs/mistakes.md, which tells the story behind each variant. */
  @ParameterizedTest(name = "{arguments}")
  @CsvSource({"README.md, tf1-mistakes, tf1-data", "README.md, keras-mistakes, keras-data",
      "docs/mistakes.md, tf1-mistakes, tf1-data", "docs/mistakes.md, keras-mistakes, keras-data"})
  void documentedTableIsTheGeneratorsTable(String document, String marker, String folder) throws IOException {
    GeneratedBlock.assertExact(Path.of(document), marker, String.join("\n", tableRows(folder)));
  }

  /**
   * The TF1 table's accuracies of the exported models, measured again on the committed models:
   * equal up to the float32 rounding of another CPU (SampleTolerances). A retrained model's are
   * compared in Tf1MistakesReproducibilityTest.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(Variant.class)
  void tf1AccuraciesAreTheCommittedModelsOwn(Variant v) {
    String[] row = MeasuredTable.row(BnCheckRun.DATA_DIR.resolve("README.md"), v.dir);
    double[] accuracy = Tf1MistakesGenerator.accuracy(v.path(),
        Tf1MistakesGenerator.dataset(Tf1MistakesGenerator.TEST_N, Tf1MistakesGenerator.TEST_SEED));
    assertThat(accuracy[0]).as("batch 64").isCloseTo(Double.parseDouble(row[4]),
        within(SampleTolerances.COMMITTED_MODEL_ACCURACY));
    assertThat(accuracy[1]).as("batch 1").isCloseTo(Double.parseDouble(row[5]),
        within(SampleTolerances.COMMITTED_MODEL_ACCURACY));
  }

  /** Every row's last two columns, exit code and findings, from a fresh run on that row's data. */
  @ParameterizedTest(name = "{arguments}")
  @CsvSource({"tf1-data, 6", "keras-data, 4"})
  void everyRowsVerdictIsWhatBncheckSaysToday(String folder, int variants) throws IOException {
    List<String[]> rows = tableRows(folder).stream().skip(2)
        .map(line -> line.substring(2, line.length() - 2).split(" \\| ")).toList();
    assertThat(rows).hasSize(variants);
    for (String[] row : rows) {
      String variant = row[0].replace("`", "");
      String inputs = folder.equals("keras-data") && row[2].equals("shifted") ? "transfer-inputs.npy" : "inputs.npy";
      BnCheckRun run = BnCheckRun.check(ROOT.resolve(variant), ROOT.resolve(folder).resolve(inputs));
      String verdict = run.exitCode() + " | " + run.summary();
      assertThat(verdict).as(variant + ": " + run.stderr())
          .isEqualTo(row[row.length - 2] + " | " + row[row.length - 1]);
    }
  }
}
