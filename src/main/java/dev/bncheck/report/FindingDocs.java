package dev.bncheck.report;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The explanation of each finding code (cause, evidence, fix) as docs/findings.md has it: the build
 * packages that page beside this class, so the HTML report, which travels alone, carries the same
 * text as the documentation and never a copy of it.
 */
final class FindingDocs {

  static final String RESOURCE = "findings.md";

  /** A section starts with its anchor and its heading: {@code <a id="bn001"></a>} then {@code ## BN001 title}. */
  private static final Pattern SECTION = Pattern.compile("<a id=\"(bn\\d{3})\"></a>\n## (BN\\d{3}) ([^\n]+)\n");

  /**
   * One code's section.
   *
   * @param code the finding code, e.g. {@code BN001}
   * @param title the heading after the code, e.g. {@code statistics never updated}
   * @param markdown the section's text below its heading
   */
  record Section(String code, String title, String markdown) {}

  private static final Map<String, Section> SECTIONS = parse(read());

  private FindingDocs() {}

  /** The section of a code such as {@code BN003}, if the page has one. */
  static Optional<Section> of(String code) {
    return Optional.ofNullable(SECTIONS.get(code));
  }

  static Map<String, Section> parse(String page) {
    Map<String, Section> sections = new LinkedHashMap<>();
    Matcher m = SECTION.matcher(page);
    int[] starts = m.results().mapToInt(r -> r.start()).toArray();
    m.reset();
    for (int i = 0; m.find(); i++) {
      if (!m.group(1).equals(m.group(2).toLowerCase(Locale.ROOT))) {
        throw new IllegalStateException("anchor " + m.group(1) + " heads the section of " + m.group(2));
      }
      int end = i + 1 < starts.length ? starts[i + 1] : page.length();
      sections.put(m.group(2), new Section(m.group(2), m.group(3), page.substring(m.end(), end).strip()));
    }
    return Map.copyOf(sections);
  }

  private static String read() {
    try (InputStream in = FindingDocs.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is not packaged beside " + FindingDocs.class.getName());
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("\r\n", "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
