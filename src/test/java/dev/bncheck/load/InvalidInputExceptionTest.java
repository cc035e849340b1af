package dev.bncheck.load;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The message of an input error is one line whatever the model's names hold. */
class InvalidInputExceptionTest {

  @Test
  void lineBreaksQuotedFromAModelAreWrittenEscaped() {
    var e = new InvalidInputException("m.pt", "data.pkl", "missing: storage 3\nq\r");
    assertThat(e.getMessage()).isEqualTo("m.pt: data.pkl: missing: storage 3\\nq\\r").doesNotContain("\n");
  }
}
