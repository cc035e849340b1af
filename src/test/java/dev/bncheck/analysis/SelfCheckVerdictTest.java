package dev.bncheck.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.Precision;
import dev.bncheck.model.Tensor;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * A self-check beyond the runtime format's round-off is a bug in bncheck, whatever the findings
 * say: the report names the first such layer. Inference outputs of x = [[1, 10], [3, 30]] through
 * gamma (2, 1), beta (1, 0), mean (2, 20), variance (4, 100) are [[0, -1], [2, 1]].
 */
class SelfCheckVerdictTest {

  private static final BnLayer LAYER = new BnLayer("bn", "bn", 1, 0.0, OptionalDouble.empty(), null,
      OptionalLong.empty(), new double[] {2, 1}, true, new double[] {1, 0}, true, new double[] {2, 20},
      new double[] {4, 100}, java.util.Optional.empty());

  private static Report report(double[] frameworkOutput, Precision precision) {
    CalibrationAccumulator data = new CalibrationAccumulator();
    Tensor x = new Tensor.Float64(new int[] {2, 2}, new double[] {1, 10, 3, 30});
    data.accept(0, x, 1);
    data.frameworkOutput(0, LAYER, x, new Tensor.Float64(new int[] {2, 2}, frameworkOutput), 1, false, precision);
    return new Analyzer(Checks.ALL, Thresholds.DEFAULTS).analyze(new BnModel("m", "test", null, null, List.of(LAYER)),
        data, Analyzer.DataAvailability.REQUESTED, new RunInfo("test", "check", "0", "d", null, FailOn.ERROR));
  }

  @Test
  void aSelfCheckBeyondRoundOffIsNamedWithTheFormat() {
    assertThat(report(new double[] {0, -1, 2, 1}, Precision.FLOAT32).selfCheckFailure()).isEmpty();
    // relative to the output's RMS, sqrt((0 + 1 + 6.25 + 1) / 4) = 1.436
    assertThat(report(new double[] {0, -1, 2.5, 1}, Precision.FLOAT32).selfCheckFailure()).hasValue("layer bn:"
        + " bncheck's inference-mode output differs from TensorFlow's by 0.5 (relative 0.3482), beyond float32"
        + " round-off; please report it");
    // half's round-off, 16 x 2^-11 of the terms' size (about 0.0078 x 4 here), allows 0.01, not float32's
    assertThat(report(new double[] {0, -1, 2.01, 1}, Precision.FLOAT16).selfCheckFailure()).isEmpty();
    assertThat(report(new double[] {0, -1, 2.01, 1}, Precision.FLOAT32).selfCheckFailure()).isPresent();
  }
}
