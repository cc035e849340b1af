package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.TestFiles;
import dev.bncheck.cli.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;

/**
 * TensorFlow Java takes any node whose name starts with {@code Init} for an initializer that a
 * session runs before the fetches. bncheck's sessions run none: a model's own initializer would
 * overwrite the restored variables, and a hostile node so named would run unchecked.
 */
class InitializerNamesTest {

  @TempDir Path dir;

  /**
   * A WriteFile named {@code Init_write} inside a loop that nothing reads: no output depends on
   * it, so no fetch runs it; only an initializer run would.
   */
  @Test
  void nodeNamedLikeAnInitializerInAFrozenGraphNeverRuns() throws IOException {
    Path frozen = TfTestModels.frozenGraph(dir.resolve("f"), TfTestModels.FrozenVariant.FUSED).path();
    Path marker = dir.resolve("marker");
    GraphDef.Builder graph = GraphDef.parseFrom(Files.readAllBytes(frozen)).toBuilder();
    AttrValue int32 = HostileGraphs.type(DataType.DT_INT32);
    AttrValue frame = AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFromUtf8("hidden")).build();
    HostileGraphs.writeFile(HostileGraphs.Scope.TOP, "Init_", marker).forEach(graph::addNode);
    graph.addNode(HostileGraphs.intConst("hidden/start", 0));
    graph.addNode(NodeDef.newBuilder().setName("hidden/Enter").setOp("Enter").addInput("hidden/start")
        .putAttr("T", int32).putAttr("frame_name", frame));
    graph.addNode(NodeDef.newBuilder().setName("hidden/Merge").setOp("Merge").addInput("hidden/Enter")
        .addInput("hidden/NextIteration").putAttr("T", int32).putAttr("N", AttrValue.newBuilder().setI(2).build()));
    graph.addNode(NodeDef.newBuilder().setName("hidden/NextIteration").setOp("NextIteration")
        .addInput("hidden/Merge").addInput("^Init_write").putAttr("T", int32));
    for (var node : graph.getNodeBuilderList()) {
      if (node.getName().equals("Init_write")) {
        node.addInput("^hidden/Merge");
      }
    }
    Files.write(frozen, graph.build().toByteArray());

    CliRun run = CliRun.of("check", frozen.toString(), "--synthetic", "4");

    assertThat(marker).doesNotExist();
    assertThat(run.exitCode()).as(run.err()).isIn(0, 1, 3);
  }

  /**
   * The export that TensorFlow Java's documentation shows: variables from {@code tf.variable(init)},
   * {@code session.initialize()}, {@code SavedModelBundle.exporter}. Its initializer is a node
   * named {@code Init}; rerunning it would replace the trained statistics with the initial ones.
   */
  @Test
  void modelExportedTheTensorFlowJavaWayIsCheckedWithItsTrainedStatistics() throws IOException {
    Path model = dir.resolve("exported");
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4, 4, 2)));
      Variable<TFloat32> gamma = tf.withName("bn_gamma").variable(tf.constant(new float[] {1f, 1f}));
      Variable<TFloat32> beta = tf.withName("bn_beta").variable(tf.constant(new float[] {0f, 0f}));
      Variable<TFloat32> mean = tf.withName("bn_moving_mean").variable(tf.constant(new float[] {0f, 0f}));
      Variable<TFloat32> variance = tf.withName("bn_moving_variance").variable(tf.constant(new float[] {1f, 1f}));
      FusedBatchNorm<TFloat32, TFloat32> bn = tf.nn.fusedBatchNorm(x, gamma, beta, mean, variance,
          FusedBatchNorm.epsilon(1e-3f), FusedBatchNorm.isTraining(false));
      s.initialize();
      // trained statistics, written after initialization as training would leave them
      s.runner().addTarget(tf.assign(mean, tf.constant(new float[] {3f, -2f})))
          .addTarget(tf.assign(variance, tf.constant(new float[] {4f, 0.25f}))).run();
      SavedModelBundle.exporter(model.toString()).withSession(s)
          .withSignature(Signature.builder().input("x", x).output("y", tf.withName("y").identity(bn.y())).build())
          .export();
    }
    Path data = dir.resolve("data.npy");
    Files.write(data, npyOffset(32, 3f, 2f, -2f, 0.5f));

    CliRun inspect = CliRun.of("inspect", model.toString(), "--format", "json");
    assertThat(inspect.exitCode()).as(inspect.err()).isZero();
    // the restored statistics (means 3 and -2, variances 4 and 0.25), not the initial 0 and 1
    assertThat(inspect.out()).contains("\"min\": -2,\n        \"mean\": 0.5,\n        \"max\": 3")
        .contains("\"min\": 0.25,\n        \"mean\": 2.125,\n        \"max\": 4");
    CliRun check = CliRun.of("check", model.toString(), "--inputs", data.toString());
    assertThat(check.exitCode()).as(check.err()).isZero();
    assertThat(check.out()).contains("PASS");
  }

  /** {@code n} samples of shape [4, 4, 2], channel 0 with mean m0 and deviation s0, channel 1 with m1 and s1. */
  private static byte[] npyOffset(int n, float m0, float s0, float m1, float s1) {
    byte[] plain = TestFiles.randomNpy(n, 4, 4, 2);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(plain).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    int start = plain.length - 4 * n * 4 * 4 * 2;
    for (int i = 0; i < n * 4 * 4 * 2; i++) {
      int at = start + 4 * i;
      float v = b.getFloat(at);
      b.putFloat(at, i % 2 == 0 ? m0 + s0 * v : m1 + s1 * v);
    }
    return plain;
  }
}
