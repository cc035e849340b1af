package dev.bncheck.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** docs/findings.md documents every code and every threshold default, as the code has them. */
class FindingsDocumentationTest {

  static String docs() throws IOException {
    return Files.readString(Path.of("docs/findings.md"));
  }

  @Test
  void everyCheckHasASectionTitledAsTheCheck() throws IOException {
    String docs = docs();
    for (CheckDeclaration check : Checks.DECLARATIONS) {
      String code = check.code();
      assertThat(docs).as(code).contains("<a id=\"" + code.toLowerCase(Locale.ROOT) + "\"></a>\n## " + code + " "
          + check.title() + "\n");
      // the summary table's row: the title (a note in brackets may follow) and whether the check needs data
      String needsData = check.data() == CheckDeclaration.DataNeed.NONE ? "no" : "yes";
      assertThat(docs).as(code).containsPattern("\\| \\[" + code + "\\]\\(#" + code.toLowerCase(Locale.ROOT)
          + "\\) \\| [^|]+ \\| " + Pattern.quote(check.title()) + "( \\([^|]*\\))? \\| " + needsData + " \\|");
    }
  }

  @Test
  void thresholdDefaultsInTheDocsAreTheOptionDefaults() throws IOException {
    String docs = docs();
    CommandLine check = dev.bncheck.cli.Main.commandLine(
        new java.io.PrintWriter(java.io.Writer.nullWriter()), new java.io.PrintWriter(java.io.Writer.nullWriter()))
        .getSubcommands().get("check");
    int thresholds = 0;
    for (OptionSpec option : check.getCommandSpec().options()) {
      String name = option.longestName();
      if (name.matches("--(mean-shift|var-ratio|mode-rms|dead)-.*")) {
        thresholds++;
        assertThat(docs).as(name).contains("| `" + name + "` | " + option.defaultValue() + " |");
      }
    }
    assertThat(thresholds).isEqualTo(7);
  }
}
