package dev.bncheck.load.tensorflow;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** The BN nodes found among the nodes a run executes, ready to become layers. */
record GraphBnLayers(TfGraph graph, TensorValues constants, List<BnNode> nodes, List<BnNode> deadNodes,
    Map<BnNode, String> choosingInputs, Set<CallContext> takenBranches, List<String> reachedTopLevel, Map<String, String> objectPaths) {

  /**
   * @param file the model file, for error messages
   * @param fedNodes the top-level nodes the run feeds, with the input's name for the user: a
   *     placeholder's default applies only when it is not fed
   * @param fixedFeeds the fed nodes the run gives one value for every batch
   * @param objectPaths variable handles' paths in a SavedModel's object graph (none in a frozen graph)
   */
  static GraphBnLayers find(String file, TfGraph graph, List<TfGraph.Reached> reached, Map<String, String> fedNodes,
      Map<String, Double> fixedFeeds, Map<String, String> objectPaths) {
    TensorValues constants = new TensorValues(file);
    DeadBranches dead = new DeadBranches(graph, constants, fedNodes, fixedFeeds);
    BnNodeFinder.Found found;
    try {
      found = new BnNodeFinder(new OriginTracer(graph), constants, dead).find(reached);
    } catch (OriginTracer.TooLarge e) {
      throw new dev.bncheck.load.InvalidInputException(file, "", e.getMessage() + "; bncheck refuses graphs that"
          + " large to analyse");
    }
    List<String> topLevel = reached.stream().filter(r -> r.context().caller() == null)
        .map(r -> r.node().getName()).toList();
    return new GraphBnLayers(graph, constants, found.live(), found.dead(), found.choosingInputs(),
        found.takenBranches(), topLevel,
        objectPaths);
  }

  LayerAssembler.Layers assemble(VariableReader variables) {
    return new LayerAssembler(graph, constants, reachedTopLevel, objectPaths).assemble(nodes, deadNodes, choosingInputs, variables)
        .withTakenBranches(takenBranches);
  }
}
