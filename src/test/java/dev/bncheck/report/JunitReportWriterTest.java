package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.analysis.FailOn;
import dev.bncheck.analysis.Finding;
import dev.bncheck.analysis.Report;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/** The JUnit XML as a CI system reads it: parsed, not compared as text (GoldenReportsTest does that). */
class JunitReportWriterTest {

  private static Document parse(Report report) throws Exception {
    StringWriter out = new StringWriter();
    new JunitReportWriter().write(report, out);
    return DocumentBuilderFactory.newDefaultInstance().newDocumentBuilder()
        .parse(new InputSource(new StringReader(out.toString())));
  }

  private static List<Element> elements(Document doc, String tag) {
    NodeList nodes = doc.getElementsByTagName(tag);
    List<Element> list = new ArrayList<>();
    for (int i = 0; i < nodes.getLength(); i++) {
      list.add((Element) nodes.item(i));
    }
    return list;
  }

  private static Element testcase(Document doc, String classname, String name) {
    return elements(doc, "testcase").stream()
        .filter(e -> e.getAttribute("classname").equals(classname) && e.getAttribute("name").startsWith(name))
        .findFirst().orElseThrow(() -> new AssertionError("no testcase " + classname + " " + name));
  }

  @Test
  void oneTestcasePerLayerAndCheckWithAFailurePerFinding() throws Exception {
    Report report = ReportFixtures.report("samples/stale.json");
    Document doc = parse(report);
    Element suite = doc.getDocumentElement();
    assertThat(suite.getTagName()).isEqualTo("testsuite");
    assertThat(suite.getAttribute("name")).isEqualTo("bncheck");
    assertThat(suite.getAttribute("tests")).isEqualTo("33");
    assertThat(suite.getAttribute("failures")).isEqualTo("6");
    assertThat(suite.getAttribute("errors")).isEqualTo("0");
    assertThat(suite.getAttribute("skipped")).as("BN012, explained by BN003 on each layer").isEqualTo("3");
    assertThat(elements(doc, "testcase")).hasSize(33).allSatisfy(c -> assertThat(c.getAttribute("time")).isEqualTo("0"));
    assertThat(elements(doc, "failure")).extracting(f -> f.getAttribute("message"))
        .containsExactlyElementsOf(report.findings().stream().map(f -> "[" + f.code() + "] " + f.message()).toList());
    assertThat(elements(doc, "failure")).allSatisfy(f -> assertThat(f.getAttribute("type")).isEqualTo("error"));
    Element stale = (Element) testcase(doc, "block1/bn", "BN003 moving statistics stale").getElementsByTagName("failure").item(0);
    assertThat(stale.getTextContent()).contains("estimated_updates=300", "fix: the average received too few updates",
        "see docs/findings.md#bn003");
  }

  @Test
  void findingsBelowFailOnPassWithTheFindingInSystemOut() throws Exception {
    Document atError = parse(ReportFixtures.report("samples/dead-channel.json", FailOn.ERROR));
    assertThat(atError.getDocumentElement().getAttribute("failures")).isEqualTo("0");
    Element dead = testcase(atError, "block2/bn", "BN006");
    assertThat(dead.getElementsByTagName("failure").getLength()).isZero();
    assertThat(dead.getElementsByTagName("system-out").item(0).getTextContent())
        .startsWith("[BN006] warning: channel 5 of 32 near-dead").contains("dead_channels=[5]");

    Document atWarning = parse(ReportFixtures.report("samples/dead-channel.json", FailOn.WARNING));
    assertThat(atWarning.getDocumentElement().getAttribute("failures")).isEqualTo("1");
    Element failure = (Element) testcase(atWarning, "block2/bn", "BN006").getElementsByTagName("failure").item(0);
    assertThat(failure.getAttribute("type")).isEqualTo("warning");
  }

  @Test
  void skippedChecksCarryTheirReason() throws Exception {
    Document doc = parse(ReportFixtures.modelLevel());
    Element skipped = (Element) testcase(doc, ControlCharacters.escape(ReportFixtures.HOSTILE_NAME), "BN003")
        .getElementsByTagName("skipped").item(0);
    assertThat(skipped.getAttribute("message")).isEqualTo("no calibration data for this layer");
  }

  @Test
  void modelLevelFindingsAndUnresolvedLayersAreTestcasesToo() throws Exception {
    Report report = ReportFixtures.modelLevel();
    assertThat(report.findings()).extracting(Finding::code).contains("BN002", "BN005");
    Document doc = parse(report);
    assertThat(((Element) testcase(doc, "signature output logits", "BN005 outputs at batch size 1")
        .getElementsByTagName("failure").item(0)).getAttribute("message")).startsWith("[BN005] output logits of sample 3");
    assertThat(testcase(doc, "signature output probs", "BN005").getChildNodes().getLength()).isZero();
    assertThat(testcase(doc, "head/bn", "BN002 training-mode BN").getElementsByTagName("failure").getLength()).isOne();
    assertThat(((Element) testcase(doc, "head/bn", "not analysed").getElementsByTagName("skipped").item(0))
        .getAttribute("message")).isEqualTo("parameters could not be read (FusedBatchNormV3 at head/bn/FusedBatchNormV3):"
            + " the scale is computed, not a variable");
    Element suite = doc.getDocumentElement();
    assertThat(Integer.parseInt(suite.getAttribute("tests"))).isEqualTo(elements(doc, "testcase").size());
    assertThat(Integer.parseInt(suite.getAttribute("failures"))).isEqualTo(elements(doc, "failure").size()).isEqualTo(2);
    assertThat(Integer.parseInt(suite.getAttribute("skipped"))).isEqualTo(elements(doc, "skipped").size());
  }

  @Test
  void markupInNamesSurvivesAndForbiddenCharactersAreReplaced() throws Exception {
    Document doc = parse(ReportFixtures.modelLevel());
    assertThat(elements(doc, "testcase")).extracting(e -> e.getAttribute("classname"))
        .contains("a|b <i>c</i> `d` & \"e\" ]]> \\x01f");
  }

  @Test
  void controlCharactersFromTheModelAreShownEscapedInValidXml() throws Exception {
    Document doc = parse(ReportFixtures.forging());

    assertThat(elements(doc, "testcase")).extracting(e -> e.getAttribute("classname"))
        .contains(ReportFixtures.FORGING_NAME_SHOWN);
    Element failure = elements(doc, "failure").stream()
        .filter(f -> f.getAttribute("message").startsWith("[BN009]")).findFirst().orElseThrow();
    assertThat(failure.getAttribute("message")).isEqualTo("[BN009] epsilon of " + ReportFixtures.FORGING_NAME_SHOWN
        + " is odd");
    assertThat(failure.getTextContent()).contains("fix: rename " + ReportFixtures.FORGING_NAME_SHOWN)
        .doesNotContain("\u001b", "\u202e", "\u2028");
  }
}
