package dev.bncheck.load.tensorflow;

import java.util.List;

/** The BN nodes found among the nodes a run executes, ready to become layers. */
record GraphBnLayers(TfGraph graph, TensorValues constants, List<BnNode> nodes) {

  static GraphBnLayers find(TfGraph graph, List<TfGraph.Reached> reached) {
    TensorValues constants = new TensorValues();
    List<BnNode> nodes = new BnNodeFinder(new OriginTracer(graph), constants).find(reached);
    return new GraphBnLayers(graph, constants, nodes);
  }

  LayerAssembler.Layers assemble(VariableReader variables) {
    return new LayerAssembler(graph, constants).assemble(nodes, variables);
  }
}
