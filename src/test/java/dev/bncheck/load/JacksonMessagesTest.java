package dev.bncheck.load;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Jackson's messages as Jackson 2.22 writes them, without the advice meant for programmers. */
class JacksonMessagesTest {

  @Test
  void theLimitKeepsItsNumbersAndLosesTheClassThatSetsIt() {
    assertThat(JacksonMessages.plain("Document nesting depth (9) exceeds the maximum allowed (8, from"
        + " `StreamReadConstraints.getMaxNestingDepth()`)"))
        .isEqualTo("Document nesting depth (9) exceeds the maximum allowed (8)");
  }

  @Test
  void aNonStandardTokenLosesTheFeatureToEnable() {
    assertThat(JacksonMessages.plain("Non-standard token 'NaN': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to"
        + " allow\n at [Source: (byte[])\"...\"; line: 1, column: 12]")).isEqualTo("Non-standard token 'NaN'");
  }

  @Test
  void otherMessagesKeepTheirFirstLine() {
    assertThat(JacksonMessages.plain("Unexpected character ('}' (code 125)): was expecting double-quote\n at ..."))
        .isEqualTo("Unexpected character ('}' (code 125)): was expecting double-quote");
  }

  /** The source's placeholder and the feature that would show it are noise; the position is not. */
  @Test
  void aStartMarkerKeepsItsPositionAndLosesTheSourcePlaceholder() {
    assertThat(JacksonMessages.plain("Unexpected end-of-input: expected close marker for Object (start marker at"
        + " [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1])\n"
        + " at [Source: REDACTED; line: 1, column: 60]"))
        .isEqualTo("Unexpected end-of-input: expected close marker for Object (start marker at line 1, column 1)");
  }
}
