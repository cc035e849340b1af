package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ControlCharactersTest {

  @ParameterizedTest(name = "{arguments}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
      "\"line\nbreak\"|line\\nbreak",
      "\"cr\rtab\t\"|cr\\rtab\\t",
      "\"nul\u0000bell\u0007\"|nul\\x00bell\\x07",
      "\"esc\u001b[2J\"|esc\\x1b[2J",
      "\"del\u007f c1\u0080\u009b\"|del\\x7f c1\\x80\\x9b",
      "\"separators\u2028\u2029\"|separators\\u2028\\u2029",
      "\"embeddings\u202a\u202b\u202c overrides\u202d\u202e\"|embeddings\\u202a\\u202b\\u202c overrides\\u202d\\u202e",
      "\"isolates\u2066\u2067\u2068\u2069\"|isolates\\u2066\\u2067\\u2068\\u2069",
  })
  void controlsSeparatorsAndDirectionOverridesBecomeVisibleEscapes(String raw, String shown) {
    assertThat(ControlCharacters.escape(raw)).isEqualTo(shown);
  }

  @ParameterizedTest(name = "{arguments}")
  @CsvSource(delimiter = '|', value = {"block1/bn", "café ☕ 层 \u00a0 nbsp", "a\\nb already escaped", "\u200f mark"})
  void printableTextIsLeftAsItIs(String text) {
    assertThat(ControlCharacters.escape(text)).isSameAs(text);
  }
}
