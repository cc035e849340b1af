package dev.bncheck.load.tensorflow;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.CalibrationPasses;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelSession;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Loads the BN layers of a frozen GraphDef ({@code .pb}), whose parameters are constants: read
 * entirely in Java, without starting TensorFlow.
 */
public final class BnModelFromFrozenGraph implements ModelLoader {

  @Override
  public String description() {
    return "a frozen TensorFlow graph (.pb)";
  }

  @Override
  public boolean runsModel() {
    return true;
  }

  @Override
  public boolean accepts(Path input) {
    String name = input.getFileName().toString();
    return Files.isRegularFile(input) && name.endsWith(".pb") && !name.equals("saved_model.pb");
  }

  @Override
  public BnModel load(Path input, LoadOptions options, CalibrationSink sink) {
    if (options.runsOnData() && sink.wantsActivations()) {
      return CalibrationPasses.runAll(open(input, options), sink);
    }
    return LargeStack.call(() -> parse(input, options).model());
  }

  @Override
  public ModelSession open(Path input, LoadOptions options) {
    return LargeStack.call(() -> FrozenGraphSession.open(input, options));
  }

  /** A frozen graph read and checked in Java, and its layers, whose parameters are its constants. */
  record Parsed(GraphDef graphDef, TfGraph graph, LayerAssembler.Layers layers, BnModel model) {}

  static Parsed parse(Path input, LoadOptions options) {
    GraphDef graphDef;
    byte[] bytes = null;
    try {
      bytes = ProtobufFile.read(input);
      graphDef = GraphDef.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      if (isSavedModel(bytes)) {
        throw new InvalidInputException(input.toString(), "", "this is a SavedModel's saved_model.pb, not a frozen"
            + " graph: give the SavedModel's directory (the one holding saved_model.pb and variables/)");
      }
      throw new InvalidInputException(input.toString(), "",
          "not a valid GraphDef (corrupt or truncated): " + TensorFlowRuntime.firstLine(e.getMessage()));
    } catch (IOException e) {
      throw new InvalidInputException(input.toString(), "", "cannot read: " + e.getMessage(), e);
    }
    if (graphDef.getNodeCount() == 0) {
      // an empty file, or bytes that parse only as unknown fields: a truncated artifact must not pass
      throw new InvalidInputException(input.toString(), "", "holds no graph nodes (empty, or not a GraphDef)");
    }
    TfGraph graph = new TfGraph(graphDef);
    ConstantSizes.check(graph, input.toString());
    if (!options.trustModel()) {
      ModelSafety safety = new ModelSafety(graph, input.toString(), options.allowedOps());
      safety.checkNames();
      safety.checkWalkable(List.of());
    }
    Map<String, String> fed = graphDef.getNodeList().stream().filter(n -> n.getOp().equals("Placeholder"))
        .collect(Collectors.toMap(NodeDef::getName, NodeDef::getName));
    LayerAssembler.Layers layers = GraphBnLayers.find(input.toString(), graph, graph.reachableFromSinks(), fed,
        ModelRunner.perRunFeeds(placeholders(graphDef), options), Map.of()).assemble(VariableReader.NONE);
    return new Parsed(graphDef, graph, layers, new BnModel(input.toString(), "TensorFlow frozen graph", "tensorflow",
        null, layers.layers(), layers.unresolved()));
  }

  /** A frozen graph has no signature: its inputs are its placeholders, by node name. */
  static List<ModelRunner.Input> placeholders(GraphDef graphDef) {
    // a placeholder nothing reads is no input: freezing a lowered tf.while_loop leaves a few
    // (unused_control_flow_input), and they need no data
    Set<String> read = new HashSet<>();
    for (NodeDef node : graphDef.getNodeList()) {
      for (String input : node.getInputList()) {
        read.add(GraphScope.Ref.parse(input).node());
      }
    }
    List<ModelRunner.Input> inputs = new ArrayList<>();
    for (NodeDef node : graphDef.getNodeList()) {
      if (node.getOp().equals("Placeholder") && read.contains(node.getName())) {
        var dtype = node.getAttrMap().get("dtype");
        var shape = node.getAttrMap().get("shape");
        inputs.add(new ModelRunner.Input(node.getName(), node.getName() + ":0",
            dtype == null ? DataType.DT_INVALID : dtype.getType(),
            shape == null ? TensorShapeProto.newBuilder().setUnknownRank(true).build() : shape.getShape()));
      }
    }
    inputs.sort(Comparator.comparing(ModelRunner.Input::key));
    return inputs;
  }

  /** Whether the bytes are a SavedModel protocol buffer with at least one meta graph. */
  private static boolean isSavedModel(byte[] bytes) {
    try {
      return bytes != null && org.tensorflow.proto.SavedModel.parseFrom(bytes).getMetaGraphsCount() > 0;
    } catch (InvalidProtocolBufferException e) {
      return false;
    }
  }
}
