package dev.bncheck.report;

import dev.bncheck.analysis.Report;
import java.io.IOException;
import java.io.Writer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * The report as JUnit XML, which CI systems (GitHub Actions through a reporter action, GitLab,
 * Jenkins) show natively: one testsuite, one testcase per check and layer. Nothing in it depends
 * on when or where it ran (time is always 0), so that two runs on the same inputs are identical.
 */
public final class JunitReportWriter implements ReportWriter {

  /** The JDK's own writer, whatever else is on the class path, so that the output never changes with it. */
  private static final XMLOutputFactory FACTORY = XMLOutputFactory.newDefaultFactory();

  @Override
  public void write(Report report, Writer out) throws IOException {
    List<JunitCase> cases = JunitCase.of(report);
    try {
      XMLStreamWriter x = FACTORY.createXMLStreamWriter(out);
      x.writeStartDocument("UTF-8", "1.0");
      x.writeCharacters("\n");
      x.writeStartElement("testsuite");
      attribute(x, "name", "bncheck");
      attribute(x, "tests", String.valueOf(cases.size()));
      attribute(x, "failures", String.valueOf(count(cases, JunitCase.Result.FAILED)));
      attribute(x, "errors", "0");
      attribute(x, "skipped", String.valueOf(count(cases, JunitCase.Result.SKIPPED)));
      attribute(x, "time", "0");
      x.writeCharacters("\n  ");
      x.writeStartElement("properties");
      for (var p : properties(report).entrySet()) {
        x.writeCharacters("\n    ");
        x.writeEmptyElement("property");
        attribute(x, "name", p.getKey());
        attribute(x, "value", p.getValue());
      }
      x.writeCharacters("\n  ");
      x.writeEndElement();
      for (JunitCase c : cases) {
        testcase(x, c);
      }
      x.writeCharacters("\n");
      x.writeEndElement();
      x.writeEndDocument();
      x.flush();
      x.close();
    } catch (XMLStreamException e) {
      throw new IOException("cannot write the JUnit report: " + e.getMessage(), e);
    }
    out.write('\n');
  }

  /**
   * What a reader needs to reproduce the run, as in the JSON report; data_sha256 only when there is
   * a data file, and suppressed only when findings were, saying how many and by what.
   */
  private static Map<String, String> properties(Report report) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("bncheck_version", report.run().toolVersion());
    p.put("command", report.run().command());
    p.put("verdict", report.failed() ? "fail" : "pass");
    p.put("fail_on", report.run().failOn().label());
    ReportText.suppressed(report).ifPresent(suppressed -> p.put("suppressed", suppressed));
    p.put("model", report.model().location());
    p.put("model_sha256", report.run().modelSha256());
    p.put("data", report.run().data());
    if (report.run().dataSha256() != null) {
      p.put("data_sha256", report.run().dataSha256());
    }
    if (!report.run().batches().isEmpty()) {
      p.put("batches", report.run().batches());
    }
    report.firstData().ifPresent(c -> {
      p.put("samples", String.valueOf(c.samples()));
      p.put("distinct_samples", String.valueOf(c.distinctSamples()));
    });
    return p;
  }

  private static void testcase(XMLStreamWriter x, JunitCase c) throws XMLStreamException {
    x.writeCharacters("\n  ");
    boolean empty = c.result() == JunitCase.Result.PASSED && c.text().isEmpty();
    if (empty) {
      x.writeEmptyElement("testcase");
    } else {
      x.writeStartElement("testcase");
    }
    attribute(x, "classname", c.classname());
    attribute(x, "name", c.name());
    attribute(x, "time", "0");
    if (empty) {
      return;
    }
    x.writeCharacters("\n    ");
    switch (c.result()) {
      case FAILED -> {
        x.writeStartElement("failure");
        attribute(x, "message", c.message());
        attribute(x, "type", c.type());
        x.writeCharacters(clean(c.text()));
        x.writeEndElement();
      }
      case SKIPPED -> {
        x.writeEmptyElement("skipped");
        attribute(x, "message", c.message());
      }
      case PASSED -> {
        x.writeStartElement("system-out");
        x.writeCharacters(clean(c.text()));
        x.writeEndElement();
      }
    }
    x.writeCharacters("\n  ");
    x.writeEndElement();
  }

  private static long count(List<JunitCase> cases, JunitCase.Result result) {
    return cases.stream().filter(c -> c.result() == result).count();
  }

  /** Attribute values are one line of text, so every control character in them comes from the input. */
  private static void attribute(XMLStreamWriter x, String name, String value) throws XMLStreamException {
    x.writeAttribute(name, clean(ControlCharacters.escape(value)));
  }

  /**
   * The writer escapes markup but passes on characters XML 1.0 forbids (most control characters,
   * lone surrogates), which would make the whole file unreadable; a name from a model may hold any.
   */
  static String clean(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      boolean allowed = c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF)
          || (c >= 0xE000 && c <= 0xFFFD) || c >= 0x10000;
      out.appendCodePoint(allowed ? c : 0xFFFD);
      i += Character.charCount(c);
    }
    return out.toString();
  }
}
