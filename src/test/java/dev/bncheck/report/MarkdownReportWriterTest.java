package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.analysis.Evidence;
import dev.bncheck.analysis.Finding;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.Severity;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MarkdownReportWriterTest {

  private static String markdown(Report report) throws Exception {
    StringWriter out = new StringWriter();
    new MarkdownReportWriter().write(report, out);
    return out.toString();
  }

  @Test
  void hostileNamesAndMessagesCannotBreakTheTableOrInjectMarkup() throws Exception {
    Report base = ReportFixtures.modelLevel();
    List<Finding> findings = new ArrayList<>(base.findings());
    findings.add(new Finding("BN009", Severity.INFO, 0, ReportFixtures.HOSTILE_NAME, "epsilon <1e-5> | *odd*",
        List.of(new Evidence("node", "x`y")), "use <b>1e-3</b>"));
    Report report = new Report(base.run(), base.model(), base.thresholds(), base.layers(), base.batchSizeChecks(),
        findings);
    String md = markdown(report);
    assertThat(md).contains("| ``a\\|b <i>c</i> `d` & \"e\" ]]> \\x01f`` | 2 | ok | - | - | - |\n");
    assertThat(md).contains("- **[BN009] info** ``a|b <i>c</i> `d` & \"e\" ]]> \\x01f``: epsilon \\<1e-5\\> \\| \\*odd\\*");
    assertThat(md).contains("evidence: ``node=x`y``").contains("fix: use \\<b\\>1e-3\\</b\\>");
    assertThat(md).contains("""
        **Not analysed** (BN layers whose parameters could not be read, or that keep no running statistics):

        - `head/bn` at `head/bn/FusedBatchNormV3`: the scale is computed, not a variable (training mode)
        """);
    assertThat(md.lines().filter(l -> l.startsWith("|"))).hasSize(3);
  }

  @Test
  void titleSaysTheVerdictAndTheCounts() throws Exception {
    assertThat(markdown(ReportFixtures.report("samples/dead-channel.json")))
        .startsWith("## bncheck check: PASS — 0 errors, 1 warning, 0 info (--fail-on error)\n");
    assertThat(markdown(ReportFixtures.report("samples/nan-statistics.json"))).startsWith("## bncheck check: FAIL — ");
  }

  @Test
  void controlCharactersFromTheModelAreShownEscapedAndForgeNoLine() throws Exception {
    String md = markdown(ReportFixtures.forging());

    assertThat(md).contains("`" + ReportFixtures.FORGING_NAME_SHOWN + "`")
        .contains("epsilon of " + ReportFixtures.FORGING_NAME_SHOWN.replace("\\", "\\\\").replace("[", "\\[")
            .replace("]", "\\]") + " is odd");
    assertThat(md.lines()).noneMatch(line -> line.startsWith("[BN000]"));
    assertThat(md).doesNotContain("\u001b", "\u202e", "\u2028");
  }
}
