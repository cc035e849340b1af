package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.TestFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Hostile models run through the launcher, as CI runs bncheck, where only a separate process
 * shows the effect: one op that runs for minutes (a convolution of a 512x512x128 image by a
 * 32x32 kernel, about 1 MB on disk) outlives the time limit, which TensorFlow does not enforce on
 * an op already running, so the process is ended with the one-line error and exit code 3; and
 * model text TensorFlow logs raw on stderr cannot pose as bncheck's own lines.
 */
class HostileModelLauncherIT {

  static final Path ROOT = Path.of(System.getProperty("bncheck.basedir", ".")).toAbsolutePath().normalize();

  @TempDir Path dir;

  private static NodeDef ints(String name, int... values) {
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(values.length)));
    for (int v : values) {
      t.addIntVal(v);
    }
    return NodeDef.newBuilder().setName(name).setOp("Const").putAttr("dtype", HostileGraphs.type(DataType.DT_INT32))
        .putAttr("value", AttrValue.newBuilder().setTensor(t).build()).build();
  }

  /** The model with a minutes-long convolution that {@code node} waits for. */
  private Path slowBefore(String node, boolean initOp) throws IOException {
    Path model = TfTestModels.tf1FusedSavedModel(dir.resolve("m"), TfTestModels.FusedVariant.TRAINED).path();
    HostileModelsTest.edit(model, meta -> {
      var g = meta.getGraphDefBuilder();
      AttrValue f32 = HostileGraphs.type(DataType.DT_FLOAT);
      g.addNode(ints("slow/image_shape", 1, 512, 512, 128));
      g.addNode(ints("slow/kernel_shape", 32, 32, 128, 128));
      g.addNode(NodeDef.newBuilder().setName("slow/one").setOp("Const").putAttr("dtype", f32)
          .putAttr("value", AttrValue.newBuilder().setTensor(TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
              .setTensorShape(TensorShapeProto.getDefaultInstance()).addFloatVal(1f)).build()));
      for (String part : List.of("image", "kernel")) {
        g.addNode(NodeDef.newBuilder().setName("slow/" + part).setOp("Fill").addInput("slow/" + part + "_shape")
            .addInput("slow/one").putAttr("T", f32).putAttr("index_type", HostileGraphs.type(DataType.DT_INT32)));
      }
      g.addNode(NodeDef.newBuilder().setName("slow/conv").setOp("Conv2D").addInput("slow/image").addInput("slow/kernel")
          .putAttr("T", f32).putAttr("padding", AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFromUtf8(
              "SAME")).build())
          .putAttr("strides", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder().addI(1).addI(1).addI(1)
              .addI(1)).build()));
      if (initOp) {
        g.addNode(NodeDef.newBuilder().setName("slow/init").setOp("NoOp").addInput("^slow/conv"));
        meta.putCollectionDef("legacy_init_op", CollectionDef.newBuilder()
            .setNodeList(CollectionDef.NodeList.newBuilder().addValue("slow/init")).build());
      } else {
        g.getNodeBuilderList().stream().filter(n -> n.getName().equals(node)).findFirst().orElseThrow()
            .addInput("^slow/conv");
      }
      return meta;
    });
    return model;
  }

  private Process bncheck(String... args) throws IOException {
    List<String> command = new java.util.ArrayList<>(List.of(ROOT.resolve("bin/bncheck").toString()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(dir.resolve("err.txt").toFile()).start();
  }

  @Test
  void opThatOutlivesTheTimeLimitEndsTheProcessWithExitCode3() throws IOException, InterruptedException {
    Path model = slowBefore("slow/init", true);
    Path err = dir.resolve("err.txt");
    long start = System.nanoTime();
    Process p = bncheck("inspect", model.toString(), "--timeout", "1");
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("ended").isTrue();
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    String stderr = Files.readString(err, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(stderr).isEqualTo(3);
    assertThat(stderr.strip()).doesNotContain("\n").startsWith("bncheck: error: " + model
        + ": loading it (the restore and init ops) ran longer than the time limit of 1 s");
    assertThat(took).as("the limit, the grace period and start-up").isLessThan(Duration.ofSeconds(60));
  }

  /** The same in the save op that recalibrate runs to write the new model (a red-team find, round 3). */
  @Test
  void saveOpThatOutlivesTheTimeLimitEndsTheProcessWithExitCode3() throws IOException, InterruptedException {
    Path model = slowBefore("save/control_dependency", false);
    Path data = dir.resolve("inputs.npy");
    Files.write(data, TestFiles.randomNpy(16, 6, 6, 3));
    long start = System.nanoTime();
    // 13 samples are fewer than recalibrate takes: forced, so that the run reaches the save
    Process p = bncheck("recalibrate", model.toString(), "--inputs", data.toString(), "--out",
        dir.resolve("out").toString(), "--timeout", "1", "--force");
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("ended").isTrue();
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    String stderr = Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(stderr).isEqualTo(3);
    assertThat(stderr.strip()).doesNotContain("\n").startsWith("bncheck: error: " + model
        + ": saving the new model (the model's save op) ran longer than the time limit of 1 s");
    assertThat(took).isLessThan(Duration.ofSeconds(60));
    assertThat(dir.resolve("out")).doesNotExist();
  }

  /**
   * TensorFlow's regular-expression library logs an invalid pattern raw on stderr while loading:
   * a newline in it started a line that looked like bncheck's own (a red-team find, round 5).
   * Through the launcher, such a line comes out indented; bncheck's own error line does not.
   */
  @Test
  void modelTextTensorFlowLogsCannotPoseAsBncheck() throws IOException, InterruptedException {
    Path model = TfTestModels.tf1FusedSavedModel(dir.resolve("m"), TfTestModels.FusedVariant.TRAINED).path();
    String forged = "(\nbncheck: all BN layers PASS (forged)\n::error title=bncheck::forged\n";
    HostileModelsTest.edit(model, meta -> {
      var g = meta.getGraphDefBuilder();
      g.addNode(HostileGraphs.stringConst("evil/text", "x"));
      g.addNode(NodeDef.newBuilder().setName("evil/match").setOp("StaticRegexFullMatch").addInput("evil/text")
          .putAttr("pattern", AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFromUtf8(forged)).build()));
      meta.putCollectionDef("legacy_init_op", CollectionDef.newBuilder()
          .setNodeList(CollectionDef.NodeList.newBuilder().addValue("evil/match")).build());
      return meta;
    });
    Process p = bncheck("inspect", model.toString());
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String stderr = Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(stderr).isEqualTo(3);
    assertThat(stderr).contains("  bncheck: all BN layers PASS (forged)").contains("  ::error title=bncheck::forged");
    assertThat(stderr.lines().filter(l -> l.startsWith("bncheck") || l.startsWith("::")))
        .singleElement().asString().startsWith("bncheck: error: " + model);
  }
}
