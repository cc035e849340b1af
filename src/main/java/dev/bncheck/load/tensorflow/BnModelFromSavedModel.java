package dev.bncheck.load.tensorflow;

import dev.bncheck.load.CalibrationPasses;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelSession;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.MomentumConvention;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import dev.bncheck.load.array.ModelInputs;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.proto.TensorInfo;

/**
 * Loads the BN layers of a TensorFlow SavedModel, TF1 graph or TF2/Keras: finds them in what
 * the chosen signature runs (reading saved_model.pb in Java), then reads their variables in a
 * TensorFlow session where the model's checkpoint is restored.
 */
public final class BnModelFromSavedModel implements ModelLoader {

  @Override
  public String description() {
    return "a TensorFlow SavedModel (a directory with saved_model.pb)";
  }

  @Override
  public boolean runsModel() {
    return true;
  }

  @Override
  public boolean accepts(Path input) {
    // Any directory is taken for a SavedModel, so that one without saved_model.pb gets that error.
    return Files.isDirectory(input) || input.getFileName().toString().equals("saved_model.pb");
  }

  @Override
  public boolean writesStatistics() {
    return true;
  }

  @Override
  public ModelSession open(Path input, LoadOptions options) {
    return SavedModelSession.open(input, options);
  }

  @Override
  public BnModel load(Path input, LoadOptions options, CalibrationSink sink) {
    if (options.runsOnData() && sink.wantsActivations()) {
      return CalibrationPasses.runAll(open(input, options), sink);
    }
    return LargeStack.call(() -> loadOnThisThread(input, options));
  }

  /** The layers alone: variables read in a session where the checkpoint is restored, nothing run. */
  private BnModel loadOnThisThread(Path input, LoadOptions options) {
    SavedModelFile file = SavedModelFile.read(input, options.tensorFlow().tagSet(), options.tensorFlow().signature());
    TfGraph graph = new TfGraph(file.metaGraph().getGraphDef());
    GraphBnLayers found = discover(input, file, graph, options);
    LayerAssembler.Layers layers;
    if (found.nodes().isEmpty()) {
      layers = found.assemble(VariableReader.NONE);
      if (!options.inputs().isEmpty()) {
        ModelInputs.readArrays(options.inputs());
      }
    } else {
      try (SavedModelBundle bundle = TensorFlowRuntime.load(file.directoryToLoad(), file.tags(), options.timeout())) {
        CheckedSession session = new CheckedSession(bundle.graph(), bundle.session(), input.toString(), options);
        CapturedVariables.bind(session, CapturedVariables.twins(graph, file.metaGraph(), file.outputTensors(),
            input.toString()).unrestored());
        layers = found.assemble(new SessionVariableReader(session, input.toString()));
      }
    }
    return model(input, file, layers);
  }

  static BnModel model(Path input, SavedModelFile file, LayerAssembler.Layers layers) {
    String format = "TensorFlow SavedModel (tags " + String.join(",", file.tags()) + ", signature "
        + file.signatureKey() + ")";
    return new BnModel(input.toString(), format, "tensorflow", null, withKerasMomentum(layers.layers(), file),
        layers.unresolved());
  }

  /**
   * Reads saved_model.pb, checks what loading runs (and the signature's graph, when the model is
   * to be run on data) and finds its BN layers: everything short of loading it.
   */
  static GraphBnLayers discover(Path input, SavedModelFile file, TfGraph graph, LoadOptions options) {
    ConstantSizes.check(graph, input.toString());
    if (!options.trustModel()) {
      ModelSafety safety = new ModelSafety(graph, input.toString(), options.allowedOps());
      safety.checkNames();
      if (options.runsOnData()) {
        InputNodes.requireKnown(graph, options.tensorFlow().inputNodes(), input.toString());
      }
      safety.checkLoading(file.metaGraph());
      if (options.runsOnData()) {
        safety.checkSignature(file.outputTensors());
      } else {
        safety.checkWalkable(file.outputTensors());
      }
    }
    Map<String, String> fed = new java.util.HashMap<>();
    file.signature().getInputsMap().forEach((key, info) -> fed.put(GraphScope.Ref.parse(info.getName()).node(), key));
    return GraphBnLayers.find(input.toString(), graph, graph.reachableFrom(file.outputTensors()), fed,
        ModelRunner.perRunFeeds(tensors(file.signature().getInputsMap()), options),
        CapturedVariables.objectPaths(graph, file.metaGraph()));
  }

  /** Keras 2 SavedModels record each layer's momentum in their metadata; the graph does not. */
  static List<BnLayer> withKerasMomentum(List<BnLayer> layers, SavedModelFile file) {
    Map<String, KerasMetadata.BnConfig> configs = KerasMetadata.read(file.directory());
    return layers.stream().map(layer -> {
      String last = layer.name().substring(layer.name().lastIndexOf('/') + 1);
      KerasMetadata.BnConfig config = configs.containsKey(layer.name()) ? configs.get(layer.name()) : configs.get(last);
      return config == null || config.momentum().isEmpty()
          ? layer
          : layer.withMomentum(config.momentum().getAsDouble(), MomentumConvention.KERAS);
    }).toList();
  }

  static List<ModelRunner.Input> tensors(Map<String, TensorInfo> signatureTensors) {
    return signatureTensors.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .map(e -> new ModelRunner.Input(e.getKey(), e.getValue().getName(), e.getValue().getDtype(),
            e.getValue().getTensorShape()))
        .toList();
  }
}
