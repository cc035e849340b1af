package dev.bncheck.load.tensorflow;

import dev.bncheck.TestFiles;
import dev.bncheck.cli.CliRun;
import static org.assertj.core.api.Assertions.assertThat;

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

  private static String data() {
    return DIR.resolve("data.npy").toString();
  }

  @Test
  void healthyModelServedThroughAModuleRunsWithItsRestoredStatisticsAndPasses() {
    CliRun run = CliRun.of("check", DIR.resolve("healthy").toString(), "--inputs", data());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("1 BN layer,").contains("matches TensorFlow's inference-mode output");
  }

  @Test
  void staleAndTrainingModeVariantsGetTheirFindings() {
    CliRun stale = CliRun.of("check", DIR.resolve("stale").toString(), "--inputs", data());
    assertThat(stale.exitCode()).as(stale.err()).isEqualTo(1);
    // 32 samples in one batch: the variance test allows for tails it cannot see, so the stale
    // statistics are a BN003 warning and the verdict rests on BN004
    assertThat(stale.out()).contains("[BN003] warning", "[BN004] error").doesNotContain("[BN002]");
    CliRun training = CliRun.of("check", DIR.resolve("training").toString(), "--inputs", data());
    assertThat(training.exitCode()).as(training.err()).isEqualTo(1);
    assertThat(training.out()).contains("[BN002] error");
  }

  /**
   * Red-team finds, round 3: an object graph naming a node that does not exist is ignored, and
   * one whose bound inputs are shifted, so that a capture would get another variable's value, is
   * refused.
   */
  @Test
  void objectGraphThatDoesNotMatchTheGraphIsAnInputError() throws java.io.IOException {
    Path negative = dir.resolve("negative");
    TestFiles.copyTree(DIR.resolve("healthy"), negative);
    HostileModelsTest.edit(negative, meta -> {
      meta.getObjectGraphDefBuilder().getNodesBuilder(0).addChildren(
          org.tensorflow.proto.TrackableObjectGraphOuterClass.TrackableObjectGraph.TrackableObject.ObjectReference
              .newBuilder().setNodeId(-1).setLocalName("evil"));
      return meta;
    });
    CliRun ignored = CliRun.of("check", negative.toString(), "--inputs", data());
    assertThat(ignored.exitCode()).as(ignored.err()).isZero();

    Path shifted = dir.resolve("shifted");
    TestFiles.copyTree(DIR.resolve("healthy"), shifted);
    HostileModelsTest.edit(shifted, meta -> {
      var functions = meta.getObjectGraphDefBuilder().getConcreteFunctionsMap();
      for (var name : new java.util.ArrayList<>(functions.keySet())) {
        var f = functions.get(name);
        java.util.List<Integer> bound = new java.util.ArrayList<>(f.getBoundInputsList());
        bound.add(0, bound.remove(bound.size() - 1));
        meta.getObjectGraphDefBuilder().putConcreteFunctions(name, f.toBuilder().clearBoundInputs()
            .addAllBoundInputs(bound).build());
      }
      return meta;
    });
    CliRun refused = CliRun.of("check", shifted.toString(), "--inputs", data());
    assertThat(refused.exitCode()).as(refused.err()).isEqualTo(3);
    assertThat(refused.err()).contains("object_graph_def: binds the variable").contains("the object graph does not match");
  }

  /** The saver writes the restored twins: the recalibrated statistics must reach them. */
  @Test
  void recalibratedModuleWritesTheNewStatisticsWhereTheRestoreOpReadsThem() {
    Path out = dir.resolve("fixed");
    // 32 samples are fewer than recalibrate takes for 4 channels (37): forced, as this test is about
    // where the new statistics are written
    CliRun recalibrate = CliRun.of("recalibrate", DIR.resolve("stale").toString(), "--inputs", data(), "--out",
        out.toString(), "--held-out", "0", "--force");
    assertThat(recalibrate.exitCode()).as(recalibrate.err()).isZero();
    CliRun check = CliRun.of("check", out.toString(), "--inputs", data());
    assertThat(check.exitCode()).as(check.out() + check.err()).isZero();
  }
}
