package dev.bncheck.load.onnx;

import dev.bncheck.load.InvalidInputException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The change that gives layers new moving statistics in a copy of the model. An initializer that
 * only the layer's BN nodes read, as its statistics, is replaced where it is, under its name.
 * Statistics held any other way go into a new initializer that the layer's BN nodes read instead:
 * an initializer something else also reads (the TorchScript exporter stores equal tensors once,
 * so an untrained layer's running variance is its weight), a Constant node's value, or what an
 * Identity node passes on; the tensors they came from stay as they are for their other readers.
 * Training-mode nodes of the layers asked for are switched to inference mode, so that they
 * normalize with the new statistics. A layer written out as operators is changed the same way
 * where its operators read the statistics (a Sub, an Add, or the Unsqueeze before them), and
 * refused when what they read on the way also serves other nodes.
 */
final class StatisticsEdit {

  /** BatchNormalization's inputs: X, scale, B, input_mean, input_var. */
  private static final int MEAN = 3;
  private static final int VARIANCE = 4;

  private StatisticsEdit() {}

  /**
   * @param assigned the new mean and variance, by layer
   * @param inferenceMode the layers whose training-mode nodes are switched to inference mode
   */
  static RunnableModel.Edit of(String file, OnnxProto.Model model, OnnxBnLayers.Found found,
      Map<Integer, double[][]> assigned, Set<Integer> inferenceMode) {
    Map<String, Integer> readers = new HashMap<>();
    countReaders(model.graph(), readers);
    model.graph().outputs().forEach(o -> readers.merge(o.name(), 1, Integer::sum));
    Set<String> initializers = new HashSet<>();
    Set<String> taken = new HashSet<>();
    model.graph().initializers().forEach(t -> initializers.add(t.name()));
    taken.addAll(initializers);
    model.graph().inputs().forEach(v -> taken.add(v.name()));
    model.graph().nodes().forEach(n -> taken.addAll(n.outputs()));
    Map<String, byte[]> replaced = new LinkedHashMap<>();
    List<byte[]> added = new ArrayList<>();
    Map<Integer, Map<Integer, String>> changedInputs = new LinkedHashMap<>();
    for (int layer : inferenceMode) {
      for (OnnxBnLayers.BnNode node : found.nodes()) {
        if (node.layer() == layer && node.trainingMode()) {
          requireSwitchable(file, model, node, readers);
          changedInputs.computeIfAbsent(node.position(), k -> new LinkedHashMap<>());
        }
      }
    }
    for (var e : assigned.entrySet()) {
      int layer = e.getKey();
      String layerName = found.layers().get(layer).name();
      List<OnnxBnLayers.BnNode> nodes = found.nodes().stream().filter(n -> n.layer() == layer).toList();
      OnnxBnLayers.StoredStatistics stored = found.statistics().get(layer);
      if (stored.pattern().isPresent()) {
        pattern(file, model, layerName, stored, e.getValue(), initializers, readers, taken, replaced, added,
            changedInputs);
        continue;
      }
      for (int slot : new int[] {MEAN, VARIANCE}) {
        OnnxProto.TensorProto original = slot == MEAN ? stored.mean() : stored.variance();
        double[] values = e.getValue()[slot == MEAN ? 0 : 1];
        String name = nodes.get(0).node().inputs().get(slot);
        long reads = nodes.stream().mapToLong(n -> n.node().inputs().stream().filter(name::equals).count()).sum();
        boolean oneRole = !nodes.get(0).node().inputs().get(MEAN).equals(nodes.get(0).node().inputs().get(VARIANCE));
        if (initializers.contains(name) && readers.getOrDefault(name, 0) == reads && oneRole) {
          replaced.put(name, tensor(file, layerName, name, original, values));
          continue;
        }
        String fresh = unique(layerName + (slot == MEAN ? ".running_mean" : ".running_var") + ".recalibrated", taken);
        added.add(tensor(file, layerName, fresh, original, values));
        for (OnnxBnLayers.BnNode node : nodes) {
          changedInputs.computeIfAbsent(node.position(), k -> new LinkedHashMap<>()).put(slot, fresh);
        }
      }
    }
    Map<Integer, RunnableModel.NodeChange> changed = new LinkedHashMap<>();
    // a node read by a layer written out as operators is not one of the layers' nodes
    changedInputs.forEach((position, inputs) -> changed.put(position, new RunnableModel.NodeChange(inputs,
        found.nodes().stream().anyMatch(n -> n.position() == position && inferenceMode.contains(n.layer())))));
    return new RunnableModel.Edit(Map.of(), added, replaced, changed);
  }

  /** The change for a layer written out as operators: its statistics where its operators read them. */
  private static void pattern(String file, OnnxProto.Model model, String layerName,
      OnnxBnLayers.StoredStatistics stored, double[][] values, Set<String> initializers, Map<String, Integer> readers,
      Set<String> taken, Map<String, byte[]> replaced, List<byte[]> added,
      Map<Integer, Map<Integer, String>> changedInputs) {
    DecomposedBn.Readers at = stored.pattern().orElseThrow();
    if (at.notWritable().isPresent()) {
      throw new InvalidInputException(file, "layer " + layerName, at.notWritable().get());
    }
    DecomposedBn.Reader[] slots = {at.mean(), at.variance()};
    OnnxProto.TensorProto[] originals = {stored.mean(), stored.variance()};
    for (int k = 0; k < 2; k++) {
      DecomposedBn.Reader reader = slots[k];
      String name = model.graph().nodes().get(reader.position()).inputs().get(reader.slot());
      if (initializers.contains(name) && readers.getOrDefault(name, 0) == 1) {
        replaced.put(name, tensor(file, layerName, name, originals[k], values[k]));
        continue;
      }
      String fresh = unique(layerName + (k == 0 ? ".running_mean" : ".running_var") + ".recalibrated", taken);
      added.add(tensor(file, layerName, fresh, originals[k], values[k]));
      changedInputs.computeIfAbsent(reader.position(), p -> new LinkedHashMap<>()).put(reader.slot(), fresh);
    }
  }

  /**
   * Refuses a training-mode node that cannot be switched to inference mode by leaving out its
   * outputs beyond Y: before opset 9 inference mode is an attribute of its own (is_test), and an
   * output something reads (the batch statistics) would be left without a producer.
   */
  private static void requireSwitchable(String file, OnnxProto.Model model, OnnxBnLayers.BnNode node,
      Map<String, Integer> readers) {
    if (model.defaultOpset() < 9) {
      throw new InvalidInputException(file, "node " + node.node().label(), "opset " + model.defaultOpset()
          + "; bncheck switches BatchNormalization to inference mode from opset 9");
    }
    for (String output : node.node().outputs().subList(1, node.node().outputs().size())) {
      if (!output.isEmpty() && readers.getOrDefault(output, 0) > 0) {
        throw new InvalidInputException(file, "node " + node.node().label(), "its training-mode output " + output
            + " is read by the model; switched to inference mode, the node would no longer compute it");
      }
    }
  }

  /** How many times each name is read, in the graph and every subgraph (which may read the outer graph's tensors). */
  private static void countReaders(OnnxProto.Graph graph, Map<String, Integer> readers) {
    for (OnnxProto.Node node : graph.nodes()) {
      node.inputs().forEach(i -> readers.merge(i, 1, Integer::sum));
      node.subgraphs().forEach(g -> countReaders(g, readers));
    }
  }

  private static String unique(String name, Set<String> taken) {
    String candidate = name;
    for (int n = 2; !taken.add(candidate); n++) {
      candidate = name + "_" + n;
    }
    return candidate;
  }

  /** The values as a tensor of the original's type and dimensions. */
  private static byte[] tensor(String file, String layer, String name, OnnxProto.TensorProto original,
      double[] values) {
    return switch (original.dataType()) {
      case OnnxProto.FLOAT -> OnnxWriter.floats(name, original.dims(), values);
      case OnnxProto.DOUBLE -> OnnxWriter.doubles(name, original.dims(), values);
      case OnnxProto.FLOAT16 -> OnnxWriter.halves(name, original.dims(), values);
      default -> throw new InvalidInputException(file, "layer " + layer, "its statistics are "
          + OnnxProto.typeName(original.dataType()) + "; bncheck writes float32, float16 and float64 statistics only");
    };
  }
}
