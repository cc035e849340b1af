package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** Where a BN parameter comes from, on graphs written node by node. */
class OriginTracerTest {

  private static NodeDef node(String name, String op, String... inputs) {
    NodeDef.Builder b = NodeDef.newBuilder().setName(name).setOp(op);
    for (String input : inputs) {
      b.addInput(input);
    }
    return b.build();
  }

  private static Origin traceFirstInput(GraphDef graph, String consumer) {
    TfGraph tf = new TfGraph(graph);
    return new OriginTracer(tf).traceInput(CallContext.root(tf.topLevel()), tf.topLevel().node(consumer), 0);
  }

  @Test
  void passThroughNodesLeadToTheConstantBehindThem() {
    GraphDef graph = GraphDef.newBuilder()
        .addNode(node("gamma", "Const"))
        .addNode(node("read", "Identity", "gamma", "^init"))
        .addNode(node("mul", "Mul", "read:0", "x"))
        .build();
    assertThat(traceFirstInput(graph, "mul")).isInstanceOf(Origin.Constant.class);
  }

  @Test
  void aPassThroughNodeWithoutInputsIsUnresolvedNotACrash() {
    // found by the frozen-graph fuzzer: an Identity whose only input was cut
    GraphDef graph = GraphDef.newBuilder()
        .addNode(node("read", "Identity"))
        .addNode(node("mul", "Mul", "read", "x"))
        .build();
    assertThat(traceFirstInput(graph, "mul")).isEqualTo(new Origin.Unresolved("read (Identity) has no input"));
  }
}
