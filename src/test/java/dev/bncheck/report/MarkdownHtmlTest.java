package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MarkdownHtmlTest {

  @Test
  void paragraphsListsBoldAndCodeSpansAcrossLines() {
    String markdown = """
        **Fix.** Use `a <b>
        c` & go.
        - one `x*y`
          continued
        - two

        last""";
    assertThat(MarkdownHtml.html(markdown)).isEqualTo("""
        <p><strong>Fix.</strong> Use <code>a &lt;b&gt; c</code> &amp; go.</p>
        <ul>
        <li>one <code>x*y</code> continued</li>
        <li>two</li>
        </ul>
        <p>last</p>
        """);
  }

  @Test
  void unpairedMarkersStayAsText() {
    assertThat(MarkdownHtml.html("a ` b ** c")).isEqualTo("<p>a ` b ** c</p>\n");
  }
}
