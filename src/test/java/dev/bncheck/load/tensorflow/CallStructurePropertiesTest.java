package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bncheck.load.InvalidInputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;

/**
 * Random call structures: functions calling later ones through PartitionedCall,
 * StatefulPartitionedCall, If, While, Case (and their stateless forms), a library function used
 * as an op, or a function nested in another function's attribute list; with dangling nodes that
 * nothing reads. Wherever a WriteFile hides on a path the signature can call, the op check
 * finds it and names it; without one, it passes.
 */
class CallStructurePropertiesTest {

  private static final List<String> CALL_STYLES = List.of("PartitionedCall", "StatefulPartitionedCall", "If",
      "StatelessIf", "While", "StatelessWhile", "Case", "StatelessCase", "op", "nested");

  /** A library of {@code size} functions and a top-level call of the first. */
  private record Structure(GraphDef graph, String hostileFunction) {}

  private static Structure structure(long seed, boolean hostile) {
    Random random = new Random(seed);
    int size = 1 + random.nextInt(12);
    List<List<NodeDef>> bodies = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      bodies.add(new ArrayList<>());
    }
    // a chain from the first function to a random one, so that the chosen one is reachable
    int target = random.nextInt(size);
    for (int i = 0; i < target; i++) {
      int next = i + 1 + random.nextInt(target - i);
      bodies.get(i).add(callNode("chain" + i, next, random));
      i = next - 1;
    }
    for (int i = 0; i < size; i++) {
      int extra = random.nextInt(3);
      for (int k = 0; k < extra && i + 1 < size; k++) {
        bodies.get(i).add(callNode("extra" + k, i + 1 + random.nextInt(size - i - 1), random));
      }
      bodies.get(i).add(HostileGraphs.intConst("dangling", random.nextInt()));
      bodies.get(i).add(NodeDef.newBuilder().setName("unused").setOp("Identity").addInput("dangling:output:0")
          .putAttr("T", HostileGraphs.type(DataType.DT_INT32)).build());
    }
    if (hostile) {
      bodies.get(target).addAll(HostileGraphs.writeFile(HostileGraphs.Scope.FUNCTION, "hostile_",
          Path.of("marker")));
    }
    GraphDef.Builder graph = GraphDef.newBuilder();
    for (int i = 0; i < size; i++) {
      OpDef.Builder signature = OpDef.newBuilder().setName(name(i));
      FunctionDef.Builder f = FunctionDef.newBuilder().setSignature(signature).addAllNodeDef(bodies.get(i));
      graph.getLibraryBuilder().addFunction(f);
    }
    graph.addNode(NodeDef.newBuilder().setName("out").setOp("StatefulPartitionedCall")
        .putAttr("Tin", HostileGraphs.types()).putAttr("Tout", HostileGraphs.types())
        .putAttr("f", HostileGraphs.func(name(0))));
    return new Structure(graph.build(), name(target));
  }

  private static String name(int i) {
    return "fn_" + i;
  }

  /** A node that calls function {@code callee} in one of the ways TensorFlow calls functions. */
  private static NodeDef callNode(String nodeName, int callee, Random random) {
    String style = CALL_STYLES.get(random.nextInt(CALL_STYLES.size()));
    String f = name(callee);
    NodeDef.Builder node = NodeDef.newBuilder().setName(nodeName + "_" + style.toLowerCase(Locale.ROOT));
    switch (style) {
      case "op" -> node.setOp(f);
      case "nested" -> node.setOp("StatefulPartitionedCall").putAttr("f", AttrValue.newBuilder()
          .setFunc(NameAttrList.newBuilder().setName(name(callee)).putAttr("inner", HostileGraphs.func(f))).build());
      case "If", "StatelessIf" -> node.setOp(style).putAttr(random.nextBoolean() ? "then_branch" : "else_branch",
          HostileGraphs.func(f));
      case "While", "StatelessWhile" -> node.setOp(style).putAttr(random.nextBoolean() ? "cond" : "body",
          HostileGraphs.func(f));
      case "Case", "StatelessCase" -> node.setOp(style).putAttr("branches", random.nextBoolean()
          ? HostileGraphs.funcs(f) : HostileGraphs.funcs(f, f));
      default -> node.setOp(style).putAttr("f", HostileGraphs.func(f));
    }
    return node.build();
  }

  private static ModelSafety safety(GraphDef graph) {
    return new ModelSafety(new TfGraph(graph), "model", Set.of());
  }

  @Property(tries = 300)
  void aWriteFileAnywhereTheSignatureCanCallIsFound(@ForAll long seed) {
    Structure s = structure(seed, true);
    assertThatThrownBy(() -> safety(s.graph()).checkSignature(List.of("out")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("node hostile_write in ")
        .hasMessageContaining(s.hostileFunction() + ": refused before running anything")
        .hasMessageContaining("WriteFile: it writes files");
  }

  @Property(tries = 300)
  void theSameStructuresWithoutOneAreAccepted(@ForAll long seed) {
    Structure s = structure(seed, false);
    assertThatCode(() -> safety(s.graph()).checkSignature(List.of("out"))).doesNotThrowAnyException();
  }
}
