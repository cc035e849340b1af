package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.model.CalibrationSink;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
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

  /**
   * The progress sink wraps the run's sink at a terminal only: a method of the interface it does not
   * pass on reaches the interface's default there alone (a sink method added for ONNX captures threw
   * at a terminal, exit 4, while every test and pipe passed).
   */
  @Test
  void everyMethodOfTheSinkIsPassedOn() throws NoSuchMethodException {
    for (Method method : CalibrationSink.class.getMethods()) {
      if (Modifier.isStatic(method.getModifiers())) {
        continue;
      }
      assertThat(ProgressSink.class.getMethod(method.getName(), method.getParameterTypes()).getDeclaringClass())
          .as(method.getName()).isEqualTo(ProgressSink.class);
    }
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
