package dev.bncheck.load.tensorflow;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;

/**
 * The functions that running some top-level nodes may call, and where each is called from.
 * TensorFlow calls a function through a node whose op is a library function, and through every
 * attribute of type {@code func} or {@code list(func)}: {@code f} of PartitionedCall,
 * {@code then_branch}/{@code else_branch} of If, {@code cond}/{@code body} of While,
 * {@code branches} of Case, and any other op's. All of them are followed, and every node of a
 * called function counts, not only those its outputs depend on: TensorFlow runs every stateful
 * node of a function body.
 *
 * <p>A function that declares the interface it implements ({@code api_implements}) may be
 * replaced when it runs by any library function declaring the same, whatever its name (Grappler's
 * implementation selector, which function calls run even where bncheck turns Grappler off for its
 * sessions): those are called too.
 *
 * <p>What cannot be checked before running is refused: any attribute bound by the caller (a
 * placeholder such as {@code f = $g}), a called name that is not a function of the library
 * (TensorFlow would run a primitive op of that name), a function that calls itself, calls nested
 * deeper than {@link #MAX_DEPTH}, or more than {@link #MAX_EXPANDED_NODES} nodes once every call
 * is expanded into its own copy of the function: TensorFlow crashes the process on deep or
 * recursive nesting instead of failing cleanly, and a few functions that each call the next
 * twice expand exponentially.
 */
final class CallGraph {

  /** Real models nest a few levels (signature wrapper, model, layer, control flow); 64 leaves ample margin. */
  static final int MAX_DEPTH = 64;

  /**
   * Keras registers two or three implementations of an interface (a cuDNN and a generic LSTM);
   * each call counts once per implementation, so a group of thousands made the walk quadratic.
   */
  static final int MAX_IMPLEMENTATIONS = 16;

  /** As many as bncheck's own walks of a graph visit at most ({@link TfGraph}). */
  static final long MAX_EXPANDED_NODES = TfGraph.MAX_VISITS;

  /** A call of {@code callee} by {@code node} of {@code caller}, through attribute {@code attr} (null: the op itself). */
  record Site(GraphScope caller, NodeDef node, String attr, String callee) {}

  /** Why a node cannot run under bncheck; the checker turns it into a message with the node's place. */
  static final class Refusal extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final List<String> chain;
    final NodeDef node;

    Refusal(List<String> chain, NodeDef node, String why) {
      super(why, null, false, false);
      this.chain = chain;
      this.node = node;
    }
  }

  private final TfGraph graph;
  private final GraphScope topLevel;
  private final Map<String, GraphScope> functions = new LinkedHashMap<>();
  private final Map<String, List<Site>> sitesByCallee = new HashMap<>();
  private final Map<String, List<Site>> sitesByCaller = new HashMap<>();
  private final Map<String, Site> firstCall = new HashMap<>();

  private CallGraph(TfGraph graph) {
    this.graph = graph;
    this.topLevel = graph.topLevel();
  }

  /** The call graph below the given top-level nodes; throws a {@link Refusal} for what cannot be checked. */
  static CallGraph of(TfGraph graph, List<NodeDef> topLevelNodes) {
    CallGraph calls = new CallGraph(graph);
    calls.discover(topLevelNodes);
    calls.checkBounds(topLevelNodes);
    return calls;
  }

  /** The functions called, each once, in the order they were found (breadth first). */
  List<GraphScope> functions() {
    return List.copyOf(functions.values());
  }

  /** Where a function is called from. */
  List<Site> callsOf(String function) {
    return sitesByCallee.getOrDefault(function, List.of());
  }

  /** The chain of functions by which {@code scope} is first reached, outermost first; empty for the top level. */
  List<String> chain(GraphScope scope) {
    List<String> out = new ArrayList<>();
    for (GraphScope s = scope; s.isFunction(); s = firstCall.get(s.name()).caller()) {
      out.add(0, s.name());
    }
    return out;
  }

  private void discover(List<NodeDef> topLevelNodes) {
    Deque<GraphScope> pending = new ArrayDeque<>();
    for (NodeDef node : topLevelNodes) {
      record(topLevel, node, pending);
    }
    while (!pending.isEmpty()) {
      GraphScope function = pending.poll();
      for (NodeDef node : function.nodes()) {
        record(function, node, pending);
      }
    }
  }

  private void record(GraphScope scope, NodeDef node, Deque<GraphScope> pending) {
    List<Site> sites = new ArrayList<>();
    for (Site site : calls(scope, node)) {
      sites.add(site);
      String api = graph.function(site.callee()).implementedApi();
      if (graph.implementationsOf(api).size() > MAX_IMPLEMENTATIONS) {
        throw new Refusal(chain(scope), node, "it calls " + site.callee() + ", one of "
            + graph.implementationsOf(api).size() + " functions declaring they implement the same interface"
            + " (api_implements), more than the " + MAX_IMPLEMENTATIONS + " bncheck follows");
      }
      for (String alternative : graph.implementationsOf(api)) {
        if (!alternative.equals(site.callee())) {
          sites.add(new Site(site.caller(), site.node(), site.attr(), alternative));
        }
      }
    }
    for (Site site : sites) {
      sitesByCallee.computeIfAbsent(site.callee(), k -> new ArrayList<>()).add(site);
      sitesByCaller.computeIfAbsent(scope.name(), k -> new ArrayList<>()).add(site);
      if (!functions.containsKey(site.callee())) {
        GraphScope callee = graph.function(site.callee());
        functions.put(site.callee(), callee);
        firstCall.put(site.callee(), site);
        pending.add(callee);
      }
    }
  }

  /** Every function the node calls, by its op or through its attributes, in attribute order. */
  private List<Site> calls(GraphScope scope, NodeDef node) {
    List<Site> out = new ArrayList<>();
    if (graph.function(node.getOp()) != null) {
      out.add(new Site(scope, node, null, node.getOp()));
    }
    for (var attr : new TreeMap<>(node.getAttrMap()).entrySet()) {
      collect(scope, node, attr.getKey(), attr.getValue(), out);
    }
    return out;
  }

  private void collect(GraphScope scope, NodeDef node, String attr, AttrValue value, List<Site> out) {
    switch (value.getValueCase()) {
      case FUNC -> called(scope, node, attr, value.getFunc(), out);
      case LIST -> {
        for (NameAttrList f : value.getList().getFuncList()) {
          called(scope, node, attr, f, out);
        }
      }
      // any attribute, not only a function: a separator bound by the caller built a checkpoint
      // path that the check of the function alone could not see
      case PLACEHOLDER -> throw new Refusal(chain(scope), node, "its attribute " + attr + " is bound by the caller ($"
          + value.getPlaceholder() + "), so what it does cannot be checked before running");
      default -> { }
    }
  }

  private void called(GraphScope scope, NodeDef node, String attr, NameAttrList f, List<Site> out) {
    if (graph.function(f.getName()) == null) {
      throw new Refusal(chain(scope), node, "its attribute " + attr + " calls " + f.getName()
          + ", which is not a function of the model's library (TensorFlow would run an op of that name)");
    }
    out.add(new Site(scope, node, attr, f.getName()));
    for (var nested : new TreeMap<>(f.getAttrMap()).entrySet()) {
      collect(scope, node, attr + "." + nested.getKey(), nested.getValue(), out);
    }
  }

  /**
   * Refuses recursion, nesting deeper than {@link #MAX_DEPTH} and more than
   * {@link #MAX_EXPANDED_NODES} nodes once every call is expanded. Depth first without recursion, so that a chain
   * of thousands of functions cannot overflow bncheck's own stack either.
   */
  private void checkBounds(List<NodeDef> topLevelNodes) {
    Map<String, long[]> measured = new HashMap<>();
    long total = topLevelNodes.size();
    for (Site root : sitesByCaller.getOrDefault(topLevel.name(), List.of())) {
      total = saturatingAdd(total, measure(root, measured)[0]);
    }
    if (total > MAX_EXPANDED_NODES) {
      List<Site> roots = sitesByCaller.getOrDefault(topLevel.name(), List.of());
      NodeDef first = roots.isEmpty() ? topLevelNodes.get(0) : roots.get(0).node();
      throw new Refusal(List.of(), first, "with the calls it makes, the graph expands to more than "
          + MAX_EXPANDED_NODES + " nodes once each call has its own copy of the function; bncheck refuses graphs"
          + " that large");
    }
  }

  /** A function being measured: its calls, the next one to visit, and what its subtree holds so far. */
  private static final class Frame {
    final Site site;
    final List<Site> callees;
    int next;
    long nodes;
    long height = 1;

    Frame(Site site, List<Site> callees, long ownNodes) {
      this.site = site;
      this.callees = callees;
      this.nodes = ownNodes;
    }
  }

  private Frame frame(Site site) {
    return new Frame(site, sitesByCaller.getOrDefault(site.callee(), List.of()),
        graph.function(site.callee()).nodes().size() + 1L);
  }

  /**
   * The site's callee measured as {nodes once expanded (capped just above the limit), nesting
   * height}; functions already measured are looked up in {@code measured}.
   */
  private long[] measure(Site root, Map<String, long[]> measured) {
    if (measured.containsKey(root.callee())) {
      return measured.get(root.callee());
    }
    Deque<Frame> stack = new ArrayDeque<>();
    Set<String> onPath = new HashSet<>();
    stack.push(frame(root));
    onPath.add(root.callee());
    while (true) {
      Frame top = stack.peek();
      if (top.next < top.callees.size()) {
        Site next = top.callees.get(top.next++);
        if (onPath.contains(next.callee())) {
          throw new Refusal(chain(next.caller()), next.node(), "it calls " + next.callee()
              + ", which is already being called: TensorFlow cannot run a function that calls itself");
        }
        long[] known = measured.get(next.callee());
        long height = known == null ? 1 : known[1];
        if (stack.size() + height > MAX_DEPTH) {
          throw new Refusal(chain(next.caller()), next.node(), "its calls nest more than " + MAX_DEPTH
              + " functions deep; bncheck refuses deeper nesting before TensorFlow sees it");
        }
        if (known != null) {
          top.nodes = saturatingAdd(top.nodes, known[0]);
          top.height = Math.max(top.height, 1 + known[1]);
        } else {
          onPath.add(next.callee());
          stack.push(frame(next));
        }
        continue;
      }
      stack.pop();
      onPath.remove(top.site.callee());
      long[] result = {top.nodes, top.height};
      measured.put(top.site.callee(), result);
      Frame caller = stack.peek();
      if (caller == null) {
        return result;
      }
      caller.nodes = saturatingAdd(caller.nodes, top.nodes);
      caller.height = Math.max(caller.height, 1 + top.height);
    }
  }

  private static long saturatingAdd(long a, long b) {
    return Math.min(MAX_EXPANDED_NODES + 1, a + b);
  }
}
