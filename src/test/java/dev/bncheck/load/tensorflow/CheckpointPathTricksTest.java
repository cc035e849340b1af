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
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Checkpoint ops that start from the path TensorFlow feeds but end somewhere else, or that run
 * where nothing feeds it. Each is refused with exit code 3 before it can read, write or delete
 * anything outside the model.
 */
class CheckpointPathTricksTest {

  @TempDir Path dir;

  private static final String FILENAME = "save/filename";

  private Path model() {
    return TfTestModels.tf1FusedSavedModel(dir.resolve("m"), TfTestModels.FusedVariant.TRAINED).path();
  }

  /** The meta graph of a freshly built model, to edit in memory and check without loading. */
  private MetaGraphDef originalGraph() throws IOException {
    return org.tensorflow.proto.SavedModel.parseFrom(Files.readAllBytes(model().resolve("saved_model.pb")))
        .getMetaGraphs(0);
  }

  private static NodeDef.Builder node(MetaGraphDef.Builder meta, String name) {
    return meta.getGraphDefBuilder().getNodeBuilderList().stream().filter(n -> n.getName().equals(name))
        .findFirst().orElseThrow();
  }

  private static void addStringJoin(MetaGraphDef.Builder meta, String name, String suffix) {
    meta.getGraphDefBuilder().addNode(HostileGraphs.stringConst(name + "/suffix", suffix));
    meta.getGraphDefBuilder().addNode(NodeDef.newBuilder().setName(name).setOp("StringJoin").addInput(FILENAME)
        .addInput(name + "/suffix").putAttr("N", org.tensorflow.proto.AttrValue.newBuilder().setI(2).build()));
  }

  private static void assertRefused(CliRun run, String node, String why) {
    assertThat(run.exitCode()).as(run.err()).isEqualTo(3);
    assertThat(run.err().strip()).doesNotContain("\n").contains("node " + node + ": refused before running anything")
        .contains(why);
  }

  @Test
  void restoreFromTheFedPathJoinedWithDotDotIsRefused() throws IOException {
    Path model = model();
    Path other = TfTestModels.tf1FusedSavedModel(dir.resolve("other"), TfTestModels.FusedVariant.NEVER_UPDATED).path();
    HostileModelsTest.edit(model, meta -> {
      addStringJoin(meta, "hostile/escape", "/../../../other/variables/variables");
      node(meta, "save/Restore").setInput(0, "hostile/escape");
      return meta;
    });
    assertRefused(CliRun.of("inspect", model.toString()), "save/Restore",
        "RestoreV2 reads or writes a checkpoint at a path that is not the one TensorFlow feeds");
    assertThat(other.resolve("variables")).isDirectory();
  }

  @Test
  void saveToTheFedPathJoinedWithDotDotIsRefusedByRecalibrate() throws IOException {
    Path model = model();
    HostileModelsTest.edit(model, meta -> {
      addStringJoin(meta, "hostile/escape", "/../../../../escaped");
      node(meta, "save/Save").setInput(0, "hostile/escape");
      return meta;
    });
    Path data = dir.resolve("inputs.npy");
    Files.write(data, TestFiles.randomNpy(16, 6, 6, 3));
    CliRun run = CliRun.of("recalibrate", model.toString(), "--inputs", data.toString(), "--out",
        dir.resolve("out").toString());
    assertRefused(run, "save/Save", "in the save op that writing the new model runs, SaveV2 reads or writes a"
        + " checkpoint at a path that is not the one TensorFlow feeds");
    try (Stream<Path> files = Files.walk(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("escaped"))).isEmpty();
    }
    assertThat(dir.resolve("out")).doesNotExist();
    assertThat(CliRun.of("inspect", model.toString()).exitCode()).as("inspect never saves").isZero();
  }

  @Test
  void checkpointOpInTheInitOpIsRefusedWhereNothingFeedsThePath() throws IOException {
    Path model = model();
    HostileModelsTest.edit(model, meta -> {
      // the loader feeds the path only to the restore op: here the filename tensor holds whatever
      // its producer gives (a PlaceholderWithDefault's default in a Python TF1 graph: any path)
      meta.getGraphDefBuilder().addNode(node(meta, "save/Restore").build().toBuilder().setName("hostile/restore"));
      meta.putCollectionDef("saved_model_main_op", CollectionDef.newBuilder()
          .setNodeList(CollectionDef.NodeList.newBuilder().addValue("hostile/restore")).build());
      return meta;
    });
    assertRefused(CliRun.of("inspect", model.toString()), "hostile/restore",
        "in the init op that loading runs, RestoreV2 reads or writes a checkpoint, which only TensorFlow's own restore");
  }

  @Test
  void constantPathPassedThroughASecondIdentityNOutputIsRefused() throws IOException {
    Path model = model();
    HostileModelsTest.edit(model, meta -> {
      meta.getGraphDefBuilder().addNode(HostileGraphs.stringConst("hostile/path", "/tmp/elsewhere/variables"));
      meta.getGraphDefBuilder().addNode(NodeDef.newBuilder().setName("hostile/pair").setOp("IdentityN")
          .addInput(FILENAME).addInput("hostile/path")
          .putAttr("T", HostileGraphs.types(DataType.DT_STRING, DataType.DT_STRING)));
      node(meta, "save/Restore").setInput(0, "hostile/pair:1");
      return meta;
    });
    assertRefused(CliRun.of("inspect", model.toString()), "save/Restore",
        "RestoreV2 reads or writes a checkpoint at a path that is not the one TensorFlow feeds");
  }

  @Test
  void mergeThatWouldDeleteAnotherModelsVariablesIsRefused() throws IOException {
    Path model = model();
    Path other = TfTestModels.tf1FusedSavedModel(dir.resolve("other"), TfTestModels.FusedVariant.NEVER_UPDATED).path();
    HostileModelsTest.edit(model, meta -> {
      meta.getGraphDefBuilder().addNode(HostileGraphs.stringConst("hostile/victim",
          other.resolve("variables/variables").toString()));
      meta.getGraphDefBuilder().addNode(NodeDef.newBuilder().setName("hostile/prefixes").setOp("Pack")
          .addInput("hostile/victim").putAttr("T", HostileGraphs.type(DataType.DT_STRING))
          .putAttr("N", org.tensorflow.proto.AttrValue.newBuilder().setI(1).build()));
      meta.getGraphDefBuilder().addNode(NodeDef.newBuilder().setName("hostile/merge").setOp("MergeV2Checkpoints")
          .addInput("hostile/prefixes").addInput(FILENAME));
      node(meta, "save/restore_all").addInput("^hostile/merge");
      return meta;
    });
    assertRefused(CliRun.of("inspect", model.toString()), "hostile/merge",
        "in the restore op that loading runs, MergeV2Checkpoints reads or writes a checkpoint, which only");
    assertThat(other.resolve("variables/variables.index")).exists();
  }

  /** Savers name shards below the fed prefix: TF1 {@code <prefix>_temp_<uuid>/part}, TF2 {@code _temp/part} or {@code .part}. */
  @Test
  void shardNamesBelowTheFedPrefixAreAcceptedAndNothingElse() throws IOException {
    MetaGraphDef original = originalGraph();
    for (String suffix : List.of("_temp_083f75eb032246af/part", ".part", "_temp/part", "-x_y.z")) {
      assertThat(restoreThrough(original, suffix)).as(suffix).isNull();
    }
    for (String suffix : List.of("/..", "/../../etc", "..", "_temp/../../x", "/a b", "\\..\\x", "\u0000")) {
      assertThat(restoreThrough(original, suffix)).as(suffix)
          .contains("RestoreV2 reads or writes a checkpoint at a path that is not the one TensorFlow feeds");
    }
  }

  /**
   * A {@code ..} split across constants that are harmless one by one: several inputs of one
   * StringJoin, StringJoins nested, or the separator between the parts.
   */
  @Test
  void dotDotAssembledFromHarmlessPartsIsRefused() throws IOException {
    MetaGraphDef original = originalGraph();
    String why = "RestoreV2 reads or writes a checkpoint at a path that is not the one TensorFlow feeds";

    MetaGraphDef.Builder split = original.toBuilder();
    NodeDef.Builder join = NodeDef.newBuilder().setName("split").setOp("StringJoin").addInput(FILENAME);
    for (int i = 0; i < 8; i++) {
      split.getGraphDefBuilder().addNode(HostileGraphs.stringConst("split/slash" + i, "/."));
      split.getGraphDefBuilder().addNode(HostileGraphs.stringConst("split/dot" + i, "."));
      join.addInput("split/slash" + i).addInput("split/dot" + i);
    }
    split.getGraphDefBuilder().addNode(join.putAttr("N", org.tensorflow.proto.AttrValue.newBuilder().setI(17).build()));
    node(split, "save/Restore").setInput(0, "split");
    assertThat(refusal(split)).contains(why);

    MetaGraphDef.Builder nested = original.toBuilder();
    addStringJoin(nested, "outer/inner", "/.");
    nested.getGraphDefBuilder().addNode(HostileGraphs.stringConst("outer/dot", "."));
    nested.getGraphDefBuilder().addNode(NodeDef.newBuilder().setName("outer").setOp("StringJoin")
        .addInput("outer/inner").addInput("outer/dot")
        .putAttr("N", org.tensorflow.proto.AttrValue.newBuilder().setI(2).build()));
    node(nested, "save/Restore").setInput(0, "outer");
    assertThat(refusal(nested)).contains(why);

    MetaGraphDef.Builder separated = original.toBuilder();
    addStringJoin(separated, "sep", "/");
    node(separated, "sep").putAttr("separator", org.tensorflow.proto.AttrValue.newBuilder()
        .setS(com.google.protobuf.ByteString.copyFromUtf8("/.")).build());
    node(separated, "save/Restore").setInput(0, "sep");
    assertThat(refusal(separated)).as("prefix + \"/.\" + \"/\" is harmless").isNull();
    node(separated, "sep/suffix").putAttr("value", HostileGraphs.stringConst("x", ".").getAttrMap().get("value"));
    assertThat(refusal(separated)).as("prefix + \"/.\" + \".\"").contains(why);
  }

  /**
   * The loader feeds every asset's tensor with {@code <model>/assets/<filename>} (red-team finds):
   * a filename with {@code ..} or a glob reaches files outside the model, and an asset tensor on a
   * checkpoint path is no constant, whatever its node.
   */
  @Test
  void assetFeedsCannotReachACheckpointPath() throws IOException {
    MetaGraphDef original = originalGraph();
    for (String filename : List.of("../../other/variables/variables", "/etc/passwd", "vocab*", "a/../../b")) {
      MetaGraphDef.Builder meta = original.toBuilder();
      meta.addAssetFileDef(org.tensorflow.proto.AssetFileDef.newBuilder().setFilename(filename)
          .setTensorInfo(org.tensorflow.proto.TensorInfo.newBuilder().setName("save/Const:0")));
      assertThat(refusal(meta)).as(filename).contains("is not a plain file name inside assets/");
    }
    MetaGraphDef.Builder plain = original.toBuilder();
    addStringJoin(plain, "shard", "_temp");
    node(plain, "save/Restore").setInput(0, "shard");
    assertThat(refusal(plain)).as("a constant suffix").isNull();
    plain.addAssetFileDef(org.tensorflow.proto.AssetFileDef.newBuilder().setFilename("vocab.txt")
        .setTensorInfo(org.tensorflow.proto.TensorInfo.newBuilder().setName("shard/suffix:0")));
    assertThat(refusal(plain)).as("the same suffix fed with an asset's path")
        .contains("RestoreV2 reads or writes a checkpoint at a path that is not the one TensorFlow feeds");
  }

  /** TensorFlow reads {@code :4294967297} as output 1 (a red-team find): such names are refused, not read as 0. */
  @Test
  void tensorNamesTensorFlowWouldReadOtherwiseAreRefused() throws IOException {
    MetaGraphDef original = originalGraph();
    MetaGraphDef.Builder saver = original.toBuilder();
    saver.getSaverDefBuilder().setFilenameTensorName("save/filename:4294967296");
    assertThat(refusal(saver)).contains("saver_def: names save/filename:4294967296");
    for (String input : List.of("save/filename:4294967297", "save/filename:01", "save/filename:-0", "save/filename:")) {
      MetaGraphDef.Builder meta = original.toBuilder();
      node(meta, "save/Restore").setInput(0, input);
      assertThat(refusal(meta)).as(input).contains("its input " + input + " is not written as TensorFlow writes");
    }
  }

  /**
   * Red-team finds, round 3: a StringJoin separator bound by the caller ({@code $sep}, set on the
   * call node to {@code /../../x/}), and a string constant whose {@code tensor_content}, which
   * TensorFlow reads, says something else than its {@code string_val}.
   */
  @Test
  void separatorBoundByTheCallerAndTwoEncodingsOfAStringAreRefused() throws IOException {
    MetaGraphDef original = originalGraph();
    MetaGraphDef.Builder bound = original.toBuilder();
    org.tensorflow.proto.FunctionDef.Builder f = org.tensorflow.proto.FunctionDef.newBuilder()
        .setSignature(org.tensorflow.proto.OpDef.newBuilder().setName("evil_join")
            .addInputArg(org.tensorflow.proto.OpDef.ArgDef.newBuilder().setName("prefix").setType(DataType.DT_STRING))
            .addOutputArg(org.tensorflow.proto.OpDef.ArgDef.newBuilder().setName("out").setType(DataType.DT_STRING))
            .addAttr(org.tensorflow.proto.OpDef.AttrDef.newBuilder().setName("sep").setType("string")))
        .addNodeDef(HostileGraphs.stringConst("tail", "variables"))
        .addNodeDef(NodeDef.newBuilder().setName("join").setOp("StringJoin").addInput("prefix").addInput("tail:output:0")
            .putAttr("N", org.tensorflow.proto.AttrValue.newBuilder().setI(2).build())
            .putAttr("separator", org.tensorflow.proto.AttrValue.newBuilder().setPlaceholder("sep").build()))
        .putRet("out", "join:output:0");
    bound.getGraphDefBuilder().getLibraryBuilder().addFunction(f);
    bound.getGraphDefBuilder().addNode(NodeDef.newBuilder().setName("evil/call").setOp("evil_join").addInput(FILENAME)
        .putAttr("sep", org.tensorflow.proto.AttrValue.newBuilder()
            .setS(com.google.protobuf.ByteString.copyFromUtf8("/../../../elsewhere/")).build()));
    node(bound, "save/Restore").setInput(0, "evil/call");
    assertThat(refusal(bound)).contains("node join in evil_join").contains("its attribute separator is bound by the"
        + " caller ($sep)");

    MetaGraphDef.Builder twoWays = original.toBuilder();
    addStringJoin(twoWays, "shard", "_temp");
    var value = node(twoWays, "shard/suffix").getAttrMap().get("value");
    byte[] evil = "/../../../elsewhere".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] content = new byte[evil.length + 1];
    content[0] = (byte) evil.length;
    System.arraycopy(evil, 0, content, 1, evil.length);
    node(twoWays, "shard/suffix").putAttr("value", value.toBuilder().setTensor(value.getTensor().toBuilder()
        .setTensorContent(com.google.protobuf.ByteString.copyFrom(content))).build());
    node(twoWays, "save/Restore").setInput(0, "shard");
    assertThat(refusal(twoWays))
        .contains("RestoreV2 reads or writes a checkpoint at a path that is not the one TensorFlow feeds");
  }

  /**
   * 60 Packs, each reading the one before twice, on the restore path: the check walked it
   * 2^60 times before anything ran, and TensorFlow would build 2^60 strings (a red-team find,
   * round 5). Each tensor is looked at once, and a Pack of a Pack is no saver's.
   */
  @Test
  @org.junit.jupiter.api.Timeout(30)
  void doublingChainOnACheckpointPathIsCheckedInLinearTime() throws IOException {
    MetaGraphDef original = originalGraph();
    MetaGraphDef.Builder meta = original.toBuilder();
    String previous = FILENAME;
    for (int k = 0; k < 60; k++) {
      meta.getGraphDefBuilder().addNode(NodeDef.newBuilder().setName("evil/p" + k).setOp("Pack").addInput(previous)
          .addInput(previous).putAttr("N", org.tensorflow.proto.AttrValue.newBuilder().setI(2).build())
          .putAttr("T", HostileGraphs.type(DataType.DT_STRING)));
      previous = "evil/p" + k;
    }
    node(meta, "save/Restore").setInput(0, previous);
    assertThat(refusal(meta)).as("refused at once")
        .contains("RestoreV2 reads or writes a checkpoint at a path that is not the one TensorFlow feeds");
  }

  /** The refusal of a restore whose path is the fed prefix joined with {@code suffix}, or null if accepted. */
  private static String restoreThrough(MetaGraphDef original, String suffix) {
    MetaGraphDef.Builder meta = original.toBuilder();
    addStringJoin(meta, "shard", suffix);
    node(meta, "save/Restore").setInput(0, "shard");
    return refusal(meta);
  }

  private static String refusal(MetaGraphDef.Builder meta) {
    try {
      new ModelSafety(new TfGraph(meta.getGraphDef()), "m", java.util.Set.of()).checkLoading(meta.build());
      return null;
    } catch (dev.bncheck.load.InvalidInputException e) {
      return e.getMessage();
    }
  }
}
