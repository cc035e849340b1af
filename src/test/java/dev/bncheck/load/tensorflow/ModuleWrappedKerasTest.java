package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Keras 3 model wrapped in a tf.Module and saved with tf.saved_model.save: its serving
 * functions capture handles that nothing restores, which TensorFlow's own session loader cannot
 * run; bncheck binds them to the restored variables through the object graph (fixtures from
 * scripts/make_tf_module_keras_bn.py).
 */
class ModuleWrappedKerasTest {

  private static final Path DIR = Path.of("src/test/resources/tf-module-keras");

  @TempDir Path dir;

  private record Run(int code, String out, String err) {}

  private static Run bncheck(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(code, out.toString(), err.toString());
  }

  private static String data() {
    return DIR.resolve("data.npy").toString();
  }

  @Test
  void healthyModelServedThroughAModuleRunsWithItsRestoredStatisticsAndPasses() {
    Run run = bncheck("check", DIR.resolve("healthy").toString(), "--inputs", data());
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).contains("1 BN layer,").contains("matches TensorFlow's inference-mode output");
  }

  @Test
  void staleAndTrainingModeVariantsGetTheirFindings() {
    Run stale = bncheck("check", DIR.resolve("stale").toString(), "--inputs", data());
    assertThat(stale.code()).as(stale.err()).isEqualTo(1);
    assertThat(stale.out()).contains("[BN003] error").doesNotContain("[BN002]");
    Run training = bncheck("check", DIR.resolve("training").toString(), "--inputs", data());
    assertThat(training.code()).as(training.err()).isEqualTo(1);
    assertThat(training.out()).contains("[BN002] error");
  }

  /** The saver writes the restored twins: the recalibrated statistics must reach them. */
  @Test
  void recalibratedModuleWritesTheNewStatisticsWhereTheRestoreOpReadsThem() {
    Path out = dir.resolve("fixed");
    Run recalibrate = bncheck("recalibrate", DIR.resolve("stale").toString(), "--inputs", data(), "--out",
        out.toString(), "--held-out", "0");
    assertThat(recalibrate.code()).as(recalibrate.err()).isZero();
    Run check = bncheck("check", out.toString(), "--inputs", data());
    assertThat(check.code()).as(check.out() + check.err()).isZero();
  }
}
