package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.TestFiles;
import dev.bncheck.cli.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Graphs and data at the edges of what bncheck reads: each gets a verdict or a clean input error, never exit 4. */
class UnusualGraphsTest {

  @TempDir Path dir;

  static Stream<Path> graphsWithoutInputs() throws IOException {
    try (Stream<Path> files = Files.walk(Path.of("src/test/resources/fixtures/tf-bn-reference"))) {
      List<Path> graphs = files.filter(p -> p.getFileName().toString().equals("frozen_model.pb")).sorted().toList();
      assertThat(graphs).hasSize(21);
      return graphs.stream();
    }
  }

  /** TensorFlow's import-test graphs compute BN on constants: nothing to feed, so they run once as they are. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("graphsWithoutInputs")
  void graphWithNothingToFeedRunsOnceAsItIs(Path graph) {
    CliRun run = CliRun.of("check", graph.toString(), "--synthetic", "4", "--format", "json");
    assertThat(run.exitCode()).as(run.err()).isIn(0, 1);
    if (graph.toString().contains("/batchnorm/")) {
      assertThat(run.out()).as("the layer got calibration data from the graph's own constants")
          .contains("\"calibration\": {\n      \"batches\": 1,");
    }
  }

  /**
   * convert_variables_to_constants_v2 names each constant after the variable read it replaced
   * (scripts/make_keras_frozen_v2.py): the layer is named by its ops' scope instead.
   */
  @Test
  void layerOfATensorFlow2FrozenGraphIsNamedByItsScope() {
    CliRun run = CliRun.of("inspect", "src/test/resources/keras-frozen-v2/frozen.pb", "--format", "json");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    assertThat(run.out()).contains("\"name\": \"cnn_1/bn1_1\"").doesNotContain("ReadVariableOp\",")
        .contains("\"code\": \"BN001\"");
  }

  /**
   * A constant whose bytes do not fill its shape is a corrupt model, named by its node; TensorFlow
   * found out only when running it, and the message blamed the data.
   */
  @Test
  void aTruncatedConstantIsACorruptModelNamedByItsNode() throws IOException {
    var f32 = HostileGraphs.type(org.tensorflow.proto.DataType.DT_FLOAT);
    var g = org.tensorflow.proto.GraphDef.newBuilder();
    g.addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("x").setOp("Placeholder").putAttr("dtype", f32));
    g.addNode(HostileGraphs.constant("weights", org.tensorflow.proto.DataType.DT_FLOAT,
        org.tensorflow.proto.TensorProto.newBuilder().setTensorContent(com.google.protobuf.ByteString.copyFrom(
            new byte[3]))));
    g.addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("y").setOp("AddV2").addInput("x").addInput("weights")
        .putAttr("T", f32));
    Path pb = dir.resolve("truncated.pb");
    Files.write(pb, g.build().toByteArray());
    for (List<String> args : List.of(List.of("inspect", pb.toString()), List.of("check", pb.toString(), "--synthetic",
        "4"))) {
      CliRun run = CliRun.of(args.toArray(new String[0]));
      assertThat(run.exitCode()).isEqualTo(3);
      assertThat(run.err()).isEqualTo("bncheck: error: " + pb + ": node weights: constant of 1 DT_FLOAT values holds 3"
          + " bytes where 4 are needed: the model is truncated or corrupt\n");
    }
  }

  /**
   * A 350 KB graph that took minutes to analyse (a red-team find, round 3): 15 functions that each
   * call the next twice, one BN in the innermost, each parameter behind 9,990 identities.
   */
  @Test
  @org.junit.jupiter.api.Timeout(60)
  void graphTooCostlyToTraceIsRefusedQuickly() throws IOException {
    var f32 = HostileGraphs.type(org.tensorflow.proto.DataType.DT_FLOAT);
    var g = org.tensorflow.proto.GraphDef.newBuilder();
    g.addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("x").setOp("Placeholder").putAttr("dtype", f32));
    g.addNode(HostileGraphs.constant("c", org.tensorflow.proto.DataType.DT_FLOAT,
        org.tensorflow.proto.TensorProto.newBuilder().addFloatVal(1f)));
    String previous = "c";
    for (int i = 0; i < 9_990; i++) {
      g.addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("i" + i).setOp("Identity").addInput(previous)
          .putAttr("T", f32));
      previous = "i" + i;
    }
    for (int k = 0; k <= 14; k++) {
      var signature = org.tensorflow.proto.OpDef.newBuilder().setName("f" + k)
          .addInputArg(org.tensorflow.proto.OpDef.ArgDef.newBuilder().setName("x").setType(
              org.tensorflow.proto.DataType.DT_FLOAT))
          .addInputArg(org.tensorflow.proto.OpDef.ArgDef.newBuilder().setName("p").setType(
              org.tensorflow.proto.DataType.DT_FLOAT))
          .addOutputArg(org.tensorflow.proto.OpDef.ArgDef.newBuilder().setName("y").setType(
              org.tensorflow.proto.DataType.DT_FLOAT));
      var f = org.tensorflow.proto.FunctionDef.newBuilder().setSignature(signature);
      if (k == 0) {
        f.addNodeDef(org.tensorflow.proto.NodeDef.newBuilder().setName("bn").setOp("FusedBatchNormV3").addInput("x")
            .addInput("p").addInput("p").addInput("p").addInput("p").putAttr("T", f32).putAttr("U", f32)
            .putAttr("is_training", org.tensorflow.proto.AttrValue.newBuilder().setB(false).build()));
        f.putRet("y", "bn:y:0");
      } else {
        f.addNodeDef(org.tensorflow.proto.NodeDef.newBuilder().setName("a").setOp("f" + (k - 1)).addInput("x")
            .addInput("p"));
        f.addNodeDef(org.tensorflow.proto.NodeDef.newBuilder().setName("b").setOp("f" + (k - 1)).addInput("a:y:0")
            .addInput("p"));
        f.putRet("y", "b:y:0");
      }
      g.getLibraryBuilder().addFunction(f);
    }
    g.addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("out").setOp("f14").addInput("x").addInput(previous));
    Path graph = dir.resolve("costly.pb");
    Files.write(graph, g.build().toByteArray());
    CliRun run = CliRun.of("inspect", graph.toString());
    assertThat(run.exitCode()).as(run.err()).isEqualTo(3);
    assertThat(run.err()).contains("more than 20000000 steps across all calls");
  }

  /**
   * BN-shaped nodes with their inputs cut away (the fuzz test's random mutation found one): an
   * Rsqrt, a fused BN, an Identity and the Add of a decomposed pattern with too few inputs are no
   * layers, never an internal error.
   */
  @Test
  void bnShapedNodesWithoutTheirInputsAreNoInternalError() throws IOException {
    var f32 = HostileGraphs.type(org.tensorflow.proto.DataType.DT_FLOAT);
    Path graph = dir.resolve("cut-inputs.pb");
    Files.write(graph, org.tensorflow.proto.GraphDef.newBuilder()
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("x").setOp("Placeholder").putAttr("dtype", f32))
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("eps").setOp("Const").putAttr("dtype", f32)
            .putAttr("value", org.tensorflow.proto.AttrValue.newBuilder().setTensor(org.tensorflow.proto.TensorProto
                .newBuilder().setDtype(org.tensorflow.proto.DataType.DT_FLOAT).addFloatVal(1e-3f)).build()))
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("lonely").setOp("Rsqrt").putAttr("T", f32))
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("fused").setOp("FusedBatchNormV3").putAttr("T", f32))
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("id").setOp("Identity").putAttr("T", f32))
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("add").setOp("AddV2").addInput("eps")
            .putAttr("T", f32))
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("r").setOp("Rsqrt").addInput("add").putAttr("T", f32))
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("y").setOp("Mul").addInput("x").addInput("r")
            .putAttr("T", f32))
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("add2").setOp("AddV2").addInput("x").addInput("eps")
            .putAttr("T", f32))
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("r2").setOp("Rsqrt").addInput("add2").putAttr("T", f32))
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("half").setOp("Mul").addInput("r2").putAttr("T", f32))
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("y2").setOp("Mul").addInput("x").addInput("half")
            .putAttr("T", f32))
        .build().toByteArray());

    CliRun run = CliRun.of("inspect", graph.toString());

    assertThat(run.exitCode()).as(run.err()).isIn(0, 1, 3);
    assertThat(run.err()).doesNotContain("internal error").doesNotContain("Exception");
  }

  /** A valid model without BN layers says so in every format, and fails with --require-bn. */
  @Test
  void modelWithoutBnLayersSaysSoAndFailsWhenTheyAreRequired() throws IOException {
    var f32 = HostileGraphs.type(org.tensorflow.proto.DataType.DT_FLOAT);
    Path graph = dir.resolve("no-bn.pb");
    Files.write(graph, org.tensorflow.proto.GraphDef.newBuilder()
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("x").setOp("Placeholder").putAttr("dtype", f32))
        .addNode(org.tensorflow.proto.NodeDef.newBuilder().setName("y").setOp("Relu").addInput("x").putAttr("T", f32))
        .build().toByteArray());
    CliRun plain = CliRun.of("inspect", graph.toString());
    assertThat(plain.exitCode()).isZero();
    assertThat(plain.out()).contains("0 BN layers").contains("No batch-normalization layers found.");
    CliRun json = CliRun.of("inspect", graph.toString(), "--format", "json");
    assertThat(json.out()).contains("\"bn_layers\": 0").contains("\"require_bn\": false");
    CliRun required = CliRun.of("inspect", graph.toString(), "--require-bn");
    assertThat(required.exitCode()).isEqualTo(1);
    assertThat(required.out()).contains("FAIL: no batch-normalization layers found, and --require-bn was given");
    CliRun requiredJson = CliRun.of("check", graph.toString(), "--require-bn", "--format", "json");
    assertThat(requiredJson.exitCode()).isEqualTo(1);
    assertThat(requiredJson.out()).contains("\"verdict\": \"fail\"").contains("\"require_bn\": true");
  }

  /**
   * An object graph chain of 30,000 objects with long names took memory quadratic in its length
   * (a red-team find, round 4): only the keys the signature binds are spelled out.
   */
  @Test
  @org.junit.jupiter.api.Timeout(60)
  void longObjectGraphChainCostsLittle() throws IOException {
    Path model = dir.resolve("chain");
    TestFiles.copyTree(Path.of("src/test/resources/tf-module-keras/healthy"), model);
    HostileModelsTest.edit(model, meta -> {
      var objects = meta.getObjectGraphDefBuilder();
      int first = objects.getNodesCount();
      String name = "a".repeat(100);
      objects.getNodesBuilder(0).addChildren(org.tensorflow.proto.TrackableObjectGraphOuterClass.TrackableObjectGraph
          .TrackableObject.ObjectReference.newBuilder().setNodeId(first).setLocalName(name));
      for (int i = 0; i < 30_000; i++) {
        var node = org.tensorflow.proto.SavedObjectGraphOuterClass.SavedObject.newBuilder();
        if (i + 1 < 30_000) {
          node.addChildren(org.tensorflow.proto.TrackableObjectGraphOuterClass.TrackableObjectGraph.TrackableObject
              .ObjectReference.newBuilder().setNodeId(first + i + 1).setLocalName(name));
        }
        objects.addNodes(node);
      }
      return meta;
    });
    CliRun run = CliRun.of("check", model.toString(), "--inputs", "src/test/resources/tf-module-keras/data.npy");
    assertThat(run.exitCode()).as(run.err()).isZero();
  }

  /** A function TensorFlow refuses to take (two nodes of one name) is an input error, not a crash (round 4). */
  @Test
  void functionTensorFlowCannotImportIsAnInputError() throws IOException {
    Path model = TfTestModels.functionSavedModel(dir.resolve("m"), TfTestModels.FunctionVariant.NESTED).path();
    HostileModelsTest.edit(model, meta -> {
      meta.getGraphDefBuilder().getLibraryBuilder().addFunction(HostileGraphs.nothing("plain").toBuilder()
          .addNodeDef(org.tensorflow.proto.NodeDef.newBuilder().setName("dup").setOp("NoOp"))
          .addNodeDef(org.tensorflow.proto.NodeDef.newBuilder().setName("dup").setOp("NoOp")));
      return meta;
    });
    CliRun run = CliRun.of("check", model.toString(), "--synthetic", "4");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(3);
    assertThat(run.err()).startsWith("bncheck: error: ").contains("Cannot add function 'plain'");
  }

  /** One sample gives one value per channel: too little to judge a mean or a variance. */
  @Test
  void oneValuePerChannelIsNotJudged() throws IOException {
    Path data = dir.resolve("one.npy");
    Files.write(data, TestFiles.randomNpy(1, 8));
    CliRun run = CliRun.of("check", "src/test/resources/keras-input-bn/model", "--inputs", data.toString(),
        "--format", "json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).doesNotContain("\"code\": \"BN003\",\n    \"severity\"")
        .contains("too little calibration data: 1 sample, fewer than the 8 a mean or a variance needs");
  }

  @Test
  void emptyFrozenGraphIsAnInputError() throws IOException {
    Path empty = Files.createFile(dir.resolve("model.pb"));
    CliRun run = CliRun.of("check", empty.toString());
    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.err()).isEqualTo("bncheck: error: " + empty + ": holds no graph nodes (empty, or not a GraphDef)"
        + System.lineSeparator());
  }

  @Test
  void calibrationFileWithoutSamplesIsAnInputError() throws IOException {
    Path data = dir.resolve("empty.npy");
    Files.write(data, TestFiles.randomNpy(0, 12, 6));
    CliRun run = CliRun.of("check", "src/test/resources/rnn-bn/keras-lstm", "--inputs", data.toString());
    assertThat(run.exitCode()).as(run.err()).isEqualTo(3);
    assertThat(run.err()).contains("holds no samples");
  }
}
