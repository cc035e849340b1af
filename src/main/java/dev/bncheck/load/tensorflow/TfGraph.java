package dev.bncheck.load.tensorflow;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * A GraphDef with its function library, and what a run starting from some outputs executes:
 * the nodes those outputs depend on, followed into called functions at any depth. Nodes that
 * only the training graph or an unused traced copy of a Keras layer reaches are not part of it.
 */
final class TfGraph {

  /** Bounds the walk, so a hostile or pathological graph cannot make it run away. */
  static final int MAX_VISITS = 2_000_000;

  private final GraphScope topLevel;
  private final Map<String, GraphScope> functions = new HashMap<>();
  private final Map<String, List<String>> implementations = new HashMap<>();

  TfGraph(GraphDef graph) {
    this.topLevel = GraphScope.topLevel(graph.getNodeList());
    for (FunctionDef f : graph.getLibrary().getFunctionList()) {
      GraphScope function = GraphScope.of(f);
      functions.put(f.getSignature().getName(), function);
      if (function.implementedApi() != null) {
        implementations.computeIfAbsent(function.implementedApi(), k -> new ArrayList<>()).add(function.name());
      }
    }
  }

  GraphScope topLevel() {
    return topLevel;
  }

  private Set<String> insideLoops;

  /**
   * The top-level nodes inside a lowered loop (TF1 control flow: from an Enter to the Exit that
   * leaves the frame). They run once per iteration, so nothing outside the frame can fetch them.
   */
  Set<String> insideLoweredLoops() {
    if (insideLoops == null) {
      Set<String> inside = new HashSet<>();
      boolean grew = true;
      while (grew) {
        grew = false;
        for (NodeDef node : topLevel.nodes()) {
          if (inside.contains(node.getName()) || node.getOp().equals("Exit") || node.getOp().equals("RefExit")) {
            continue;
          }
          boolean in = node.getOp().equals("Enter") || node.getOp().equals("RefEnter")
              || node.getInputList().stream().anyMatch(i -> inside.contains(GraphScope.Ref.parse(i).node()));
          if (in) {
            inside.add(node.getName());
            grew = true;
          }
        }
      }
      insideLoops = Set.copyOf(inside);
    }
    return insideLoops;
  }

  /** The library functions that declare they implement {@code api} ({@code api_implements}); none for null. */
  List<String> implementationsOf(String api) {
    return api == null ? List.of() : implementations.getOrDefault(api, List.of());
  }

  /** Every function of the library. */
  java.util.Collection<GraphScope> functions() {
    return functions.values();
  }

  /** The library function of that name, or null. */
  GraphScope function(String name) {
    return functions.get(name);
  }

  /** The function a node calls (PartitionedCall, StatefulPartitionedCall, or a library function used as an op), or null. */
  GraphScope calledFunction(NodeDef node) {
    String op = node.getOp();
    if (op.equals("PartitionedCall") || op.equals("StatefulPartitionedCall")) {
      var f = node.getAttrMap().get("f");
      return f == null ? null : functions.get(f.getFunc().getName());
    }
    return functions.get(op);
  }

  /** Functional control flow and the attributes that hold the functions it runs. */
  private static final Map<String, List<String>> CONTROL_FLOW = Map.of(
      "If", List.of("then_branch", "else_branch"), "StatelessIf", List.of("then_branch", "else_branch"),
      "Case", List.of("branches"), "StatelessCase", List.of("branches"),
      "While", List.of("body"), "StatelessWhile", List.of("body"));

  /**
   * The functions a node runs: the one it calls, or the branches and loop body of functional
   * control flow, whose BN layers count too (which branch a fixed predicate leaves dead is
   * {@link DeadBranches}' question).
   */
  List<GraphScope> runsFunctions(NodeDef node) {
    GraphScope called = calledFunction(node);
    if (called != null) {
      return List.of(called);
    }
    List<GraphScope> out = new ArrayList<>();
    for (String attr : CONTROL_FLOW.getOrDefault(node.getOp(), List.of())) {
      var value = node.getAttrMap().get(attr);
      if (value == null) {
        continue;
      }
      List<String> names = value.hasFunc() ? List.of(value.getFunc().getName())
          : value.getList().getFuncList().stream().map(f -> f.getName()).toList();
      for (String name : names) {
        GraphScope f = functions.get(name);
        if (f != null && !out.contains(f)) {
          out.add(f);
        }
      }
    }
    return out;
  }

  /** A node that runs, and where. */
  record Reached(CallContext context, NodeDef node) {}

  /** Every node that computing the given top-level tensors executes, callers before callees. */
  List<Reached> reachableFrom(List<String> topLevelTensors) {
    List<Reached> out = new ArrayList<>();
    walk(CallContext.root(topLevel), topLevelTensors, out, new int[] {0});
    return out;
  }

  /** Every node of the graph, followed into functions: for a frozen graph, which has no signature. */
  List<Reached> reachableFromSinks() {
    return reachableFrom(sinks());
  }

  /** The top-level nodes no other node reads: a frozen graph's outputs. */
  List<String> sinks() {
    Set<String> consumed = new HashSet<>();
    for (NodeDef node : topLevel.nodes()) {
      for (String input : node.getInputList()) {
        consumed.add(GraphScope.Ref.parse(input).node());
      }
    }
    return topLevel.nodes().stream().map(NodeDef::getName).filter(n -> !consumed.contains(n)).toList();
  }

  /**
   * The top-level nodes that computing the given tensors or running the given nodes executes
   * (data and control inputs), without entering functions; depth first without recursion.
   */
  List<NodeDef> topLevelDependencies(List<String> starts) {
    Set<String> seen = new HashSet<>();
    Deque<String> pending = new ArrayDeque<>();
    starts.forEach(s -> pending.push(GraphScope.Ref.parse(s).node()));
    List<NodeDef> out = new ArrayList<>();
    while (!pending.isEmpty()) {
      String name = pending.pop();
      NodeDef node = topLevel.node(name);
      if (node == null || !seen.add(name)) {
        continue;
      }
      out.add(node);
      for (String input : node.getInputList()) {
        pending.push(GraphScope.Ref.parse(input).node());
      }
    }
    return out;
  }

  /**
   * Depth-first, inputs before the node that reads them, so that the nodes come out in network
   * order; a called function's nodes come right after its call node.
   */
  private void walk(CallContext context, List<String> starts, List<Reached> out, int[] visits) {
    GraphScope scope = context.scope();
    Set<String> visited = new HashSet<>();
    Deque<String[]> stack = new ArrayDeque<>();
    for (int i = starts.size() - 1; i >= 0; i--) {
      stack.push(new String[] {GraphScope.Ref.parse(starts.get(i)).node(), null});
    }
    while (!stack.isEmpty()) {
      String[] entry = stack.pop();
      String name = entry[0];
      NodeDef node = scope.node(name);
      if (node == null) {
        continue;
      }
      if (entry[1] != null) {
        out.add(new Reached(context, node));
        for (GraphScope callee : runsFunctions(node)) {
          if (!onStack(context, callee)) {
            walk(context.enter(callee, node), callee.returnedTensorsAndControlOutputs(), out, visits);
          }
        }
        continue;
      }
      if (!visited.add(name)) {
        continue;
      }
      if (++visits[0] > MAX_VISITS) {
        throw new IllegalStateException("graph walk exceeded " + MAX_VISITS + " nodes");
      }
      stack.push(new String[] {name, "done"});
      List<String> inputs = node.getInputList();
      for (int i = inputs.size() - 1; i >= 0; i--) {
        String input = GraphScope.Ref.parse(inputs.get(i)).node();
        if (!visited.contains(input)) {
          stack.push(new String[] {input, null});
        }
      }
    }
  }

  /** Recursion guard: a function that (indirectly) calls itself is walked once per chain. */
  private static boolean onStack(CallContext context, GraphScope function) {
    for (CallContext c = context; c != null; c = c.caller()) {
      if (c.scope() == function) {
        return true;
      }
    }
    return false;
  }
}
