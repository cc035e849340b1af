package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.engine.CalibrationAccumulator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressSinkTest {

  @Test
  void progressIsOneLineRewrittenInPlaceAndClearedAtTheEnd() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ProgressSink sink = new ProgressSink(new CalibrationAccumulator(), new PrintStream(bytes, true, StandardCharsets.UTF_8));
    sink.progress("calibration batches", 0, 3);
    sink.progress("calibration batches", 1, 3);
    sink.progressEnded();
    String shown = bytes.toString(StandardCharsets.UTF_8);
    assertThat(shown).startsWith("\rbncheck: calibration batches 1 of 3").doesNotContain("\n").endsWith("\r");
  }

  @Test
  void quietOrNoTerminalMeansNoProgress() {
    CalibrationAccumulator data = new CalibrationAccumulator();
    assertThat(ProgressSink.around(data, true)).isSameAs(data);
    assertThat(ProgressSink.around(data, true, true)).isSameAs(data);
    assertThat(ProgressSink.around(data, false, false)).isSameAs(data);
    assertThat(ProgressSink.around(data, false, true)).isInstanceOf(ProgressSink.class);
  }

  /** bin/bncheck sees bncheck's real stderr, which Java sees only as a pipe into the launcher's filter. */
  @Test
  void theLaunchersWordOnStderrOverridesTheConsole() {
    assertThat(Terminal.stderrIsTerminal("1", false)).isTrue();
    assertThat(Terminal.stderrIsTerminal("0", true)).as("stdout a terminal, stderr redirected").isFalse();
    assertThat(Terminal.stderrIsTerminal(null, true)).as("java -jar at a terminal").isTrue();
    assertThat(Terminal.stderrIsTerminal(null, false)).isFalse();
  }
}
