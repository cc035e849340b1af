package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MarkdownTest {

  @Test
  void textEscapesMarkupButKeepsSnakeCaseReadable() {
    assertThat(Markdown.text("a|b <script> `x` *y* _z_ [l](u) & moving_mean ~s~ \\"))
        .isEqualTo("a\\|b \\<script\\> \\`x\\` \\*y\\* \\_z\\_ \\[l\\](u) \\& moving_mean \\~s\\~ \\\\");
  }

  @Test
  void lineBreaksAndControlsShowAsEscapesSoThatAnItemStaysOneLine() {
    assertThat(Markdown.text("a\nb\r\nc\u001bd")).isEqualTo("a\\\\nb\\\\r\\\\nc\\\\x1bd");
    assertThat(Markdown.code("a\nb")).isEqualTo("`a\\nb`");
  }

  @Test
  void codeSpansFenceBackticksWithLongerRuns() {
    assertThat(Markdown.code("block1/bn")).isEqualTo("`block1/bn`");
    assertThat(Markdown.code("a`b")).isEqualTo("``a`b``");
    assertThat(Markdown.code("a``b`")).isEqualTo("``` a``b` ```");
    assertThat(Markdown.code("<b>|")).isEqualTo("`<b>|`");
  }

  @Test
  void tableCellsEscapePipesEvenInsideCodeSpans() {
    assertThat(Markdown.codeCell("a|b")).isEqualTo("`a\\|b`");
  }
}
