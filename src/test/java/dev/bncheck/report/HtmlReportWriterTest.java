package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.analysis.Evidence;
import dev.bncheck.analysis.Finding;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.Severity;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class HtmlReportWriterTest {

  private static String html(Report report) throws Exception {
    StringWriter out = new StringWriter();
    new HtmlReportWriter().write(report, out);
    return out.toString();
  }

  @Test
  void hostileNamesAndMessagesAreEscapedEverywhere() throws Exception {
    Report base = ReportFixtures.modelLevel();
    List<Finding> findings = new ArrayList<>(base.findings());
    findings.add(new Finding("BN009", Severity.INFO, 0, ReportFixtures.HOSTILE_NAME, "epsilon <script>alert(1)</script>",
        List.of(new Evidence("node", "</svg><img src=x onerror=alert(1)>")), "use <b>1e-3</b> & \"quotes\""));
    Report report = new Report(base.run(), base.model(), base.thresholds(), base.layers(), base.batchSizeChecks(),
        findings);
    String html = html(report);
    String escaped = "a|b &lt;i&gt;c&lt;/i&gt; `d` &amp; &quot;e&quot; ]]&gt; \\x01f";
    assertThat(html).doesNotContain("<i>c</i>").doesNotContain("<script").doesNotContain("<img")
        .doesNotContain("<b>1e-3").doesNotContain("\u0001");
    assertThat(html).contains("<code>" + escaped + "</code>");
    // In the overview's SVG: the full name in the tooltip, a shortened one shown.
    assertThat(html).contains("class=\"name\"><title>0 " + escaped + " (").contains("</title>0 a|b &lt;i&gt;c&lt;/i&gt; `d`");
    assertThat(html).contains("epsilon &lt;script&gt;alert(1)&lt;/script&gt;");
    assertThat(html).contains("node=&lt;/svg&gt;&lt;img src=x onerror=alert(1)&gt;");
    assertThat(html).contains("fix: use &lt;b&gt;1e-3&lt;/b&gt; &amp; &quot;quotes&quot;");
    assertThat(html).contains("<code>head/bn</code> at <code>head/bn/FusedBatchNormV3</code>");
    // Every tag opened in the page is one the writer writes.
    var tags = Pattern.compile("<([a-zA-Z][a-zA-Z0-9]*)").matcher(html).results().map(m -> m.group(1)).distinct().toList();
    assertThat(tags).isSubsetOf("html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "span",
        "code", "table", "tr", "th", "td", "svg", "rect", "line", "circle", "text", "details", "summary", "div",
        "a", "ul", "li", "em", "i", "section", "strong");
  }

  @Test
  void controlCharactersAndDirectionOverridesFromTheModelAreShownEscaped() throws Exception {
    String html = html(ReportFixtures.forging());

    assertThat(html).contains(ReportFixtures.FORGING_NAME_SHOWN).doesNotContain("\u001b", "\u202e", "\u2028");
  }

  @Test
  void pageIsSelfContainedAndScriptFree() throws Exception {
    String html = html(ReportFixtures.report("samples/stale.json"));
    assertThat(html).startsWith("<!DOCTYPE html>\n").endsWith("</html>\n");
    assertThat(html).doesNotContainIgnoringCase("<script").doesNotContain("@import").doesNotContain("url(");
    // The svg namespace is an identifier, not a fetched resource.
    assertThat(html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "")).doesNotContain("http");
  }

  /**
   * Each finding names what it is about; only an analysed layer has a section to link to. The
   * unresolved layer's BN002 and the model's BN005 linked to #layer-1 and #layer-2, which no
   * section had.
   */
  @Test
  void findingsOfUnresolvedLayersAndOfTheModelLinkNowhere() throws Exception {
    Report report = ReportFixtures.modelLevel();
    assertThat(report.findings()).extracting(report::subjectOf)
        .contains(dev.bncheck.analysis.Subject.UNRESOLVED_LAYER, dev.bncheck.analysis.Subject.MODEL);
    String html = html(report);
    for (var f : report.findings()) {
      boolean section = html.contains("id=\"layer-" + f.layerIndex() + "\"");
      assertThat(html.contains("href=\"#layer-" + f.layerIndex() + "\"")).as(f.code() + " " + f.layer())
          .isEqualTo(section);
      assertThat(section).isEqualTo(report.subjectOf(f) == dev.bncheck.analysis.Subject.LAYER);
    }
    StringWriter json = new StringWriter();
    new JsonReportWriter().write(report, json);
    assertThat(json.toString()).contains("\"subject\": \"unresolved_layer\"", "\"subject\": \"model\"");
  }

  @Test
  void layersWithoutDataShowAsNoDataAndTheVerdictIsStated() throws Exception {
    String html = html(ReportFixtures.modelLevel());
    assertThat(html).contains(">no data</text>").contains("<span class=\"verdict fail\">FAIL</span>");
    assertThat(html(ReportFixtures.report("samples/dead-channel.json"))).contains("<span class=\"verdict pass\">PASS</span>");
  }

  @Test
  void noDataLabelsKeepClearOfTheThresholdLines() throws Exception {
    String overview = html(ReportFixtures.modelLevel()).split("<svg")[1];
    List<Double> labels = Pattern.compile("<text x=\"([0-9.]+)\" y=\"[0-9.]+\" text-anchor=\"start\" class=\"nodata\">")
        .matcher(overview).results().map(m -> Double.parseDouble(m.group(1))).toList();
    List<Double> limits = Pattern.compile("<line x1=\"([0-9.]+)\" [^>]*class=\"limit ").matcher(overview).results()
        .map(m -> Double.parseDouble(m.group(1))).toList();
    assertThat(labels).hasSize(2);
    assertThat(limits).hasSize(6);
    // "no data" in 12px italic is about 45px wide; 60 leaves room for wider fonts.
    for (double label : labels) {
      assertThat(limits).as("threshold lines near the label at x=" + label).noneMatch(x -> x >= label - 2 && x <= label + 60);
    }
  }

  @Test
  void findingsLinkToTheirExplanationInThePageItself() throws Exception {
    String html = html(ReportFixtures.report("samples/stale.json"));
    assertThat(html).doesNotContain("href=\"docs/").contains("<a href=\"#bn003\">what BN003 means</a>")
        .contains("<section class=\"explanation\" id=\"bn003\">\n<h3>BN003 moving statistics stale or diverged")
        .contains("<section class=\"explanation\" id=\"bn004\">").doesNotContain("id=\"bn001\"");
    var ids = Pattern.compile(" id=\"([^\"]+)\"").matcher(html).results().map(m -> m.group(1)).toList();
    assertThat(ids).doesNotHaveDuplicates();
    var targets = Pattern.compile("href=\"#([^\"]+)\"").matcher(html).results().map(m -> m.group(1)).distinct().toList();
    assertThat(targets).isNotEmpty().isSubsetOf(ids);
  }

  @Test
  void sameReportGivesTheSamePage() throws Exception {
    assertThat(html(ReportFixtures.report("samples/stale.json"))).isEqualTo(html(ReportFixtures.report("samples/stale.json")));
  }
}
