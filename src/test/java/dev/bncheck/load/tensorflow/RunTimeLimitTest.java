package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** A graph that never ends is stopped at the time limit ({@code --timeout}) with an input error naming the phase. */
class RunTimeLimitTest {

  @TempDir Path dir;

  /** The init op: a TF1 while loop whose condition is the constant true. */
  static void addEndlessInitLoop(org.tensorflow.proto.MetaGraphDef.Builder meta) {
    addEndlessLoop(meta.getGraphDefBuilder());
    meta.getGraphDefBuilder().addNode(NodeDef.newBuilder().setName("endless/init").setOp("NoOp")
        .addInput("^endless/Exit"));
    meta.putCollectionDef("saved_model_main_op", CollectionDef.newBuilder()
        .setNodeList(CollectionDef.NodeList.newBuilder().addValue("endless/init")).build());
  }

  /** A TF1 while loop (Enter, Merge, Switch, NextIteration, Exit) whose condition is the constant true. */
  static void addEndlessLoop(GraphDef.Builder g) {
    AttrValue int32 = HostileGraphs.type(DataType.DT_INT32);
    AttrValue bool = HostileGraphs.type(DataType.DT_BOOL);
    AttrValue frame = AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFromUtf8("endless")).build();
    g.addNode(HostileGraphs.intConst("endless/start", 0));
    g.addNode(HostileGraphs.boolConst("endless/true", true));
    g.addNode(NodeDef.newBuilder().setName("endless/Enter").setOp("Enter").addInput("endless/start")
        .putAttr("T", int32).putAttr("frame_name", frame));
    g.addNode(NodeDef.newBuilder().setName("endless/EnterTrue").setOp("Enter").addInput("endless/true")
        .putAttr("T", bool).putAttr("frame_name", frame)
        .putAttr("is_constant", AttrValue.newBuilder().setB(true).build()));
    g.addNode(NodeDef.newBuilder().setName("endless/Merge").setOp("Merge").addInput("endless/Enter")
        .addInput("endless/NextIteration").putAttr("T", int32).putAttr("N", AttrValue.newBuilder().setI(2).build()));
    g.addNode(NodeDef.newBuilder().setName("endless/LoopCond").setOp("LoopCond").addInput("endless/EnterTrue"));
    g.addNode(NodeDef.newBuilder().setName("endless/Switch").setOp("Switch").addInput("endless/Merge")
        .addInput("endless/LoopCond").putAttr("T", int32));
    g.addNode(NodeDef.newBuilder().setName("endless/Identity").setOp("Identity").addInput("endless/Switch:1")
        .putAttr("T", int32));
    g.addNode(NodeDef.newBuilder().setName("endless/NextIteration").setOp("NextIteration")
        .addInput("endless/Identity").putAttr("T", int32));
    g.addNode(NodeDef.newBuilder().setName("endless/Exit").setOp("Exit").addInput("endless/Switch")
        .putAttr("T", int32));
  }

  @Test
  @Timeout(120)
  void endlessInitLoopIsStoppedAtTheTimeLimitWithExitCode3() throws IOException {
    Path model = TfTestModels.tf1FusedSavedModel(dir.resolve("m"), TfTestModels.FusedVariant.TRAINED).path();
    HostileModelsTest.edit(model, meta -> {
      addEndlessInitLoop(meta);
      return meta;
    });
    StringWriter err = new StringWriter();
    long start = System.nanoTime();
    int code = Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "inspect",
        model.toString(), "--timeout", "2");
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertThat(code).as(err.toString()).isEqualTo(3);
    assertThat(err.toString().strip()).doesNotContain("\n").isEqualTo("bncheck: error: " + model
        + ": loading it (the restore and init ops) ran longer than the time limit of 2 s and was stopped;"
        + " raise it with --timeout");
    assertThat(took).isLessThan(Duration.ofSeconds(60));
  }

  @Test
  @Timeout(120)
  void endlessLoopBeforeTheFirstLayerIsStoppedWhileRunningOnData() throws IOException {
    Path frozen = TfTestModels.frozenGraph(dir.resolve("f"), TfTestModels.FrozenVariant.FUSED).path();
    GraphDef.Builder graph = GraphDef.parseFrom(java.nio.file.Files.readAllBytes(frozen)).toBuilder();
    addEndlessLoop(graph);
    graph.getNodeBuilderList().stream().filter(n -> n.getName().equals("conv2d/Conv2D")).findFirst().orElseThrow()
        .addInput("^endless/Exit");
    java.nio.file.Files.write(frozen, graph.build().toByteArray());
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "check",
        frozen.toString(), "--synthetic", "4", "--timeout", "2");
    assertThat(code).as(err.toString()).isEqualTo(3);
    assertThat(err.toString().strip()).doesNotContain("\n").isEqualTo("bncheck: error: " + frozen
        + ": running the model on the data ran longer than the time limit of 2 s for one run and was stopped;"
        + " raise it with --timeout");
  }
}
