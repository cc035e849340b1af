package dev.bncheck.load.tensorflow;

import java.util.List;
import java.util.Set;

/** The BN nodes found among the nodes a run executes, ready to become layers. */
record GraphBnLayers(TfGraph graph, TensorValues constants, List<BnNode> nodes, List<BnNode> deadNodes) {

  /**
   * @param fedNodes the top-level nodes the run feeds: a placeholder's default applies only when
   *     it is not fed
   */
  static GraphBnLayers find(TfGraph graph, List<TfGraph.Reached> reached, Set<String> fedNodes) {
    TensorValues constants = new TensorValues();
    DeadBranches dead = new DeadBranches(graph, constants, fedNodes);
    BnNodeFinder.Found found = new BnNodeFinder(new OriginTracer(graph), constants, dead).find(reached);
    return new GraphBnLayers(graph, constants, found.live(), found.dead());
  }

  LayerAssembler.Layers assemble(VariableReader variables) {
    return new LayerAssembler(graph, constants).assemble(nodes, deadNodes, variables);
  }
}
