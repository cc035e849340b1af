package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.model.CalibrationSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/**
 * SavedModels that try to touch the file system, built in the test by adding hostile nodes to
 * real exports. Each is refused before TensorFlow runs anything: a marker file that the model's
 * own init op would write stays absent.
 */
class HostileModelsTest {

  /** What {@code check --synthetic 4} loads with: the signature runs, so it is checked. */
  static final LoadOptions RUN_ON_DATA = new LoadOptions("serve", "serving_default", List.of(), 32, Long.MAX_VALUE, 4);

  @TempDir Path dir;

  /** Rewrites the model's saved_model.pb. */
  static void edit(Path model, UnaryOperator<MetaGraphDef.Builder> change) throws IOException {
    Path pb = model.resolve("saved_model.pb");
    SavedModel.Builder saved = SavedModel.parseFrom(Files.readAllBytes(pb)).toBuilder();
    saved.setMetaGraphs(0, change.apply(saved.getMetaGraphsBuilder(0)));
    Files.write(pb, saved.build().toByteArray());
  }

  /** An init op (saved_model_main_op) that writes {@code target}, as TF1 SavedModels may carry. */
  static void addInitWrite(MetaGraphDef.Builder meta, Path target) {
    HostileGraphs.writeFile(HostileGraphs.Scope.TOP, "hostile/", target).forEach(meta.getGraphDefBuilder()::addNode);
    meta.putCollectionDef("saved_model_main_op", CollectionDef.newBuilder()
        .setNodeList(CollectionDef.NodeList.newBuilder().addValue("hostile/write")).build());
  }

  static void load(Path model, LoadOptions options) {
    new BnModelFromSavedModel().load(model, options, new CalibrationAccumulator());
  }

  @Test
  void initOpThatWritesAFileIsRefusedAndNothingIsWritten() throws IOException {
    Path model = TfTestModels.tf1FusedSavedModel(dir.resolve("m"), TfTestModels.FusedVariant.TRAINED).path();
    Path target = dir.resolve("written-by-init");
    edit(model, meta -> {
      addInitWrite(meta, target);
      return meta;
    });
    assertThatThrownBy(() -> load(model, LoadOptions.DEFAULTS))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(model + ": node hostile/write: refused before running anything: in the init op that loading runs,"
            + " WriteFile: it writes files; if you trust this model, pass --allow-op WriteFile or --trust-model"
            + " (docs/security.md)");
    assertThat(target).doesNotExist();
    // The hostile op is real: trusting the model lets TensorFlow run it at load time.
    new BnModelFromSavedModel().load(model, LoadOptions.DEFAULTS.withSafety(Set.of(), true), CalibrationSink.NONE);
    assertThat(target).hasContent("written by the model");
  }

  @Test
  void servingGraphThatReadsAFileIsRefusedBeforeLoading() throws IOException {
    Path model = TfTestModels.tf1FusedSavedModel(dir.resolve("m"), TfTestModels.FusedVariant.TRAINED).path();
    Path marker = dir.resolve("marker");
    edit(model, meta -> {
      addInitWrite(meta, marker);
      var graph = meta.getGraphDefBuilder();
      graph.addNode(HostileGraphs.stringConst("hostile/passwd", "/etc/passwd"));
      graph.addNode(NodeDef.newBuilder().setName("hostile/read").setOp("ReadFile").addInput("hostile/passwd"));
      for (var node : graph.getNodeBuilderList()) {
        if (node.getName().equals(TfTestModels.OUTPUT)) {
          node.addInput("^hostile/read");
        }
      }
      return meta;
    });
    assertThatThrownBy(() -> load(model, RUN_ON_DATA.withSafety(Set.of("WriteFile"), false)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("node hostile/read: refused before running anything: in the signature's graph,"
            + " ReadFile: it reads files");
    assertThat(marker).as("the allowed init op did not run either: nothing ran").doesNotExist();
  }

  @Test
  void restoreFromAPathOutsideTheModelIsRefused() throws IOException {
    Path model = TfTestModels.tf1FusedSavedModel(dir.resolve("m"), TfTestModels.FusedVariant.TRAINED).path();
    Path elsewhere = TfTestModels.tf1FusedSavedModel(dir.resolve("other"), TfTestModels.FusedVariant.NEVER_UPDATED)
        .path().resolve("variables/variables");
    edit(model, meta -> {
      var graph = meta.getGraphDefBuilder();
      graph.addNode(HostileGraphs.stringConst("hostile/prefix", elsewhere.toString()));
      for (var node : graph.getNodeBuilderList()) {
        if (node.getOp().equals("RestoreV2")) {
          node.setInput(0, "hostile/prefix");
        }
      }
      return meta;
    });
    assertThatThrownBy(() -> load(model, LoadOptions.DEFAULTS))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("in the restore op that loading runs, RestoreV2 reads or writes a checkpoint at a path"
            + " that is not the one TensorFlow feeds (the model's own variables/)");
  }

  @Test
  void writeFileHiddenTwoCallsDeepIsRefusedAndNothingIsWritten() throws IOException {
    TfTestModels.Model built = TfTestModels.functionSavedModel(dir.resolve("m"), TfTestModels.FunctionVariant.NESTED);
    Path model = built.path();
    Path target = dir.resolve("written-by-function");
    List<String> functions = List.copyOf(built.functionNodes().keySet());
    String inner = functions.get(functions.size() - 1);
    edit(model, meta -> {
      var library = meta.getGraphDefBuilder().getLibraryBuilder();
      for (FunctionDef.Builder f : library.getFunctionBuilderList()) {
        if (f.getSignature().getName().equals(inner)) {
          HostileGraphs.writeFile(HostileGraphs.Scope.FUNCTION, "hostile_", target).forEach(f::addNodeDef);
          f.putControlRet("hostile", "hostile_write");
          f.getSignatureBuilder().addControlOutput("hostile");
        }
      }
      return meta;
    });
    assertThatThrownBy(() -> load(model, RUN_ON_DATA))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(model + ": node hostile_write in " + String.join(" > ", functions))
        .hasMessageContaining("WriteFile: it writes files");
    assertThat(target).doesNotExist();
  }

  @Test
  void commandLineRefusesWithExitCode3AndEchoesEveryRelaxation() throws IOException {
    Path model = TfTestModels.tf1FusedSavedModel(dir.resolve("m"), TfTestModels.FusedVariant.TRAINED).path();
    Path target = dir.resolve("written-by-init");
    edit(model, meta -> {
      addInitWrite(meta, target);
      return meta;
    });
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    int refused = dev.bncheck.cli.Main.commandLine(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true))
        .execute("inspect", model.toString());
    assertThat(refused).isEqualTo(3);
    assertThat(err.toString()).startsWith("bncheck: error: " + model + ": node hostile/write: refused").doesNotContain("\tat ");
    assertThat(target).doesNotExist();
    java.io.StringWriter relaxed = new java.io.StringWriter();
    int code = dev.bncheck.cli.Main.commandLine(new java.io.PrintWriter(relaxed, true), new java.io.PrintWriter(err, true))
        .execute("inspect", model.toString(), "--allow-op", "WriteFile", "--format", "json");
    assertThat(code).isZero();
    assertThat(relaxed.toString()).contains("\"relaxed\": [ \"--allow-op WriteFile\" ]");
    assertThat(target).exists();
  }

  @Test
  void allowedOpsAreTheOnesTheRealModelsNeed() {
    assertThat(OpAllowlist.all()).contains("FusedBatchNormV3", "RestoreV2", "StatefulPartitionedCall")
        .doesNotContain("ReadFile", "WriteFile", "MatchingFiles", "PrintV2", "PyFunc", "EagerPyFunc", "TFRecordDataset");
    Set<String> registered = new java.util.HashSet<>();
    org.tensorflow.TensorFlow.registeredOpList().getOpList().forEach(o -> registered.add(o.getName()));
    assertThat(OpAllowlist.all().stream().filter(op -> !registered.contains(op)).sorted().toList())
        .as("allowlisted ops TensorFlow does not know").isEmpty();
  }

  private static int inspect(Path model, java.io.StringWriter err) {
    return dev.bncheck.cli.Main.run(new java.io.PrintWriter(new java.io.StringWriter(), true),
        new java.io.PrintWriter(err, true), "inspect", model.toString());
  }

  /**
   * TensorFlow logs a function's name raw when it cannot convert the function: a newline and
   * escape codes in the name forged a CI command line on stderr (a red-team find, round 4).
   */
  @Test
  void functionNamedWithControlCharactersIsRefusedBeforeTensorFlowSeesIt() throws IOException {
    Path model = TfTestModels.tf1FusedSavedModel(dir.resolve("m"), TfTestModels.FusedVariant.TRAINED).path();
    String name = "f\n::error title=bncheck::all BN layers PASS\n\u001b[2J";
    edit(model, meta -> {
      meta.getGraphDefBuilder().getLibraryBuilder().addFunction(HostileGraphs.nothing(name));
      return meta;
    });
    java.io.StringWriter err = new java.io.StringWriter();
    assertThat(inspect(model, err)).isEqualTo(3);
    assertThat(err.toString().strip()).doesNotContain("\n").doesNotContain("\u001b")
        .contains("its name holds characters other than printable ASCII");
  }

  /** Thousands of functions declaring one interface made the walk quadratic (a red-team find, round 4). */
  @Test
  void interfaceWithMoreImplementationsThanAnyModelHasIsRefused() throws IOException {
    Path model = TfTestModels.tf1FusedSavedModel(dir.resolve("m"), TfTestModels.FusedVariant.TRAINED).path();
    edit(model, meta -> {
      var library = meta.getGraphDefBuilder().getLibraryBuilder();
      for (int i = 0; i <= CallGraph.MAX_IMPLEMENTATIONS; i++) {
        library.addFunction(HostileGraphs.nothing("impl" + i).toBuilder().putAttr("api_implements",
            AttrValue.newBuilder().setS(ByteString.copyFromUtf8("api")).build()).build());
      }
      meta.getGraphDefBuilder().addNode(HostileGraphs.call("hostile/call", "impl0"));
      meta.putCollectionDef("saved_model_main_op", CollectionDef.newBuilder()
          .setNodeList(CollectionDef.NodeList.newBuilder().addValue("hostile/call")).build());
      return meta;
    });
    java.io.StringWriter err = new java.io.StringWriter();
    assertThat(inspect(model, err)).isEqualTo(3);
    assertThat(err.toString()).contains("node hostile/call: refused before running anything")
        .contains((CallGraph.MAX_IMPLEMENTATIONS + 1) + " functions declaring they implement the same interface");
  }
}
