package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TextReportWriterTest {

  @Test
  void colourOnlyWhenAskedAndTheTextIsOtherwiseTheSame() throws Exception {
    var report = ReportFixtures.report("samples/nan-statistics.json");
    StringWriter plain = new StringWriter();
    new TextReportWriter(false).write(report, plain);
    StringWriter coloured = new StringWriter();
    new TextReportWriter(true).write(report, coloured);
    assertThat(plain.toString()).doesNotContain("\u001b[");
    assertThat(coloured.toString()).contains("\u001b[31m[BN007] error\u001b[0m");
    assertThat(coloured.toString().replaceAll("\u001b\\[[0-9;]*m", "")).isEqualTo(plain.toString());
  }

  @Test
  void controlCharactersFromTheModelAreShownEscapedAndForgeNoLine() throws Exception {
    for (boolean colour : new boolean[] {false, true}) {
      StringWriter out = new StringWriter();
      new TextReportWriter(colour).write(ReportFixtures.forging(), out);
      String text = out.toString();

      assertThat(text).contains(ReportFixtures.FORGING_NAME_SHOWN);
      assertThat(text.lines()).noneMatch(line -> line.startsWith("[BN000]"));
      assertThat(text.replaceAll("\u001b\\[[0-9;]*m", "")).doesNotContain("\u001b", "\u202e", "\u2028");
    }
  }
}
