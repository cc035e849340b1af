package dev.bncheck.load.onnx;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.onnx.OnnxProto.Graph;
import dev.bncheck.load.onnx.OnnxProto.Node;
import java.util.List;
import java.util.Set;

/**
 * Refuses what ONNX Runtime could turn into native code or file reads before bncheck hands it a
 * model: an operator outside the standard domains is a custom op, whose kernel comes from a
 * shared library a runtime loads; a tensor kept in a side file anywhere but among the main
 * graph's initializers would be read by the runtime itself, without bncheck's checks of its path.
 * Size, node count and nesting are bounded while reading ({@link OnnxReader}).
 */
final class OnnxSafety {

  /** The domains of the ONNX standard operators: {@code ""} and {@code ai.onnx} are the same. */
  static final Set<String> STANDARD_DOMAINS = Set.of("", "ai.onnx", "ai.onnx.ml");

  private OnnxSafety() {}

  /**
   * @param checkDomains false when the user trusts the model ({@code --trust-model}); the
   *     external-data rule always holds, since bncheck inlines what it has checked
   */
  static void check(String file, OnnxProto.Model model, boolean checkDomains) {
    walk(file, model.graph(), "graph", checkDomains, true, model.functions());
  }

  private static void walk(String file, Graph graph, String where, boolean checkDomains, boolean main,
      List<String> functions) {
    if (!main) {
      for (var t : graph.initializers()) {
        if (t.isExternal()) {
          throw new InvalidInputException(file, where + " initializer " + t.name(), "external data in a subgraph;"
              + " bncheck reads external data for the main graph's initializers only");
        }
      }
    }
    for (Node node : graph.nodes()) {
      if (checkDomains && functions.contains(node.domain() + ":" + node.opType())) {
        throw new InvalidInputException(file, "node " + node.label(), "calls the model's own function "
            + node.opType() + " of domain '" + node.domain() + "'; bncheck does not look inside functions, so it"
            + " cannot vet what they run (export with functions inlined; --trust-model skips this check)");
      }
      if (checkDomains && !STANDARD_DOMAINS.contains(node.domain())) {
        throw new InvalidInputException(file, "node " + node.label(), "operator " + node.opType() + " of domain '"
            + node.domain() + "' is not a standard ONNX operator (domains '', ai.onnx, ai.onnx.ml): a custom op's"
            + " kernel is native code a runtime loads; bncheck refuses it (--trust-model skips this check)");
      }
      for (var a : node.attributes().values()) {
        if (a.t().isPresent() && a.t().get().isExternal()) {
          throw new InvalidInputException(file, "node " + node.label(), "attribute " + a.name()
              + " keeps its tensor in external data; bncheck reads external data for initializers only");
        }
      }
      for (Graph sub : node.subgraphs()) {
        walk(file, sub, "node " + node.label() + " subgraph", checkDomains, false, functions);
      }
    }
  }
}
