package dev.bncheck.load.onnx;

import dev.bncheck.load.LoadOptions;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.CalibrationSink;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training view: what reaches every BN layer when all of them normalize with the batch's
 * own statistics, as during training (BN003's reference). ONNX Runtime's own training mode is
 * not used (its inference builds do not update or expose what bncheck needs, and it has known
 * defects); instead bncheck rewrites, in a copy of the model, each inference-mode
 * BatchNormalization into standard operators that compute training mode exactly:
 * {@code (X - mean) / sqrt(var + eps) * scale + B} with the mean and the biased variance of the
 * batch per channel (ReduceMean over every axis but the layer's channel axis), then captures
 * each node's input in that copy. Nodes already in training mode are left as they are.
 */
final class TrainingView {

  /** Broadcasting without an explicit attribute arrived in opset 7. */
  static final long MIN_OPSET = 7;

  /** ReduceMean takes its axes as an input from opset 18, as an attribute before. */
  private static final long AXES_AS_INPUT = 18;

  private TrainingView() {}

  /**
   * What the inference view saw reach a BN node: the rank and the ONNX element type of its input,
   * which the operators computing training mode in its place must match (ONNX Runtime refuses
   * float32 constants beside a float16 input).
   */
  record NodeInput(int rank, int elemType) {}

  /**
   * Whether the model can be given a training view: a model before opset 7, with a node whose
   * input the inference view did not capture, or one in bfloat16 (no constant is written in it),
   * cannot.
   *
   * @param inputs what reached each BN node, by node, as the inference view saw it
   */
  static boolean applies(OnnxProto.Model model, OnnxBnLayers.Found found, Map<Integer, NodeInput> inputs) {
    return model.defaultOpset() >= MIN_OPSET && inputs.size() == found.nodes().size()
        && inputs.values().stream().allMatch(input -> input.elemType() != OnnxProto.BFLOAT16);
  }

  /**
   * Runs the training view on the first {@code samples} samples, where it {@link #applies}.
   *
   * @param inputs what reached each BN node, by node, as the inference view saw it
   */
  static void run(String file, byte[] bytes, OnnxProto.Model model, OnnxBnLayers.Found found,
      ExternalData external, List<OnnxInputs.Feed> feeds, int batchSize, long samples, Map<Integer, NodeInput> inputs,
      LoadOptions options, String label, CalibrationSink sink) {
    long opset = model.defaultOpset();
    Map<Integer, List<byte[]>> replaced = new LinkedHashMap<>();
    List<byte[]> initializers = new ArrayList<>();
    for (int n = 0; n < found.nodes().size(); n++) {
      OnnxBnLayers.BnNode bn = found.nodes().get(n);
      if (bn.trainingMode()) {
        continue;
      }
      replaced.put(bn.position(), decomposition(bn.node(), found.layers().get(bn.layer()), inputs.get(n), opset,
          "bncheck_tv" + n + "_", initializers));
    }
    List<String> captured = OrtRunner.distinct(found.nodes().stream().map(b -> b.node().inputs().get(0)).toList());
    byte[] copy = RunnableModel.build(file, bytes, model, external, captured,
        new RunnableModel.Edit(replaced, initializers));
    try (OrtRunner ort = OrtRunner.open(file, copy, options.timeout())) {
      long batches = (samples + batchSize - 1) / batchSize;
      // the sink reduces each batch as it comes: one set of buffers serves every batch (a batch
      // normalized with its own statistics cannot run in parts)
      boolean pin = batches > 1 && feeds.stream().allMatch(feed -> feed.input().dynamicBatch());
      PinnedOutputs pinned = pin ? PinnedOutputs.allocate(ort.perSampleShapes(feeds,
          OnnxCalibration.pinnable(model.graph(), captured), label), batchSize) : PinnedOutputs.NONE;
      for (long start = 0; start < samples; start += batchSize) {
        sink.progress("training view batches", start / batchSize, batches);
        ort.run(feeds, (int) start, (int) Math.min(batchSize, samples - start), captured, label, pinned,
            (name, tensor) -> {
              for (OnnxBnLayers.BnNode bn : found.nodes()) {
                if (tensor != null && bn.node().inputs().get(0).equals(name)) {
                  sink.acceptTrainingView(bn.layer(), tensor,
                      found.layers().get(bn.layer()).resolveChannelAxis(tensor.shape().length));
                }
              }
            });
      }
    }
  }

  /** The nodes computing the node's output in training mode, with the initializers they read. */
  static List<byte[]> decomposition(OnnxProto.Node node, BnLayer layer, NodeInput input, long opset, String prefix,
      List<byte[]> initializers) {
    String x = node.inputs().get(0);
    int rank = input.rank();
    int channelAxis = layer.resolveChannelAxis(rank);
    long[] axes = new long[rank - 1];
    for (int d = 0, k = 0; d < rank; d++) {
      if (d != channelAxis) {
        axes[k++] = d;
      }
    }
    long[] channelShape = new long[rank];
    java.util.Arrays.fill(channelShape, 1);
    channelShape[channelAxis] = layer.channels();
    initializers.add(constant(input.elemType(), prefix + "scale", channelShape, layer.gamma()));
    initializers.add(constant(input.elemType(), prefix + "bias", channelShape, layer.beta()));
    initializers.add(constant(input.elemType(), prefix + "epsilon", new long[0], new double[] {layer.epsilon()}));
    boolean axesInput = opset >= AXES_AS_INPUT;
    if (axesInput) {
      initializers.add(OnnxWriter.int64s(prefix + "axes", axes));
    }
    List<byte[]> nodes = new ArrayList<>();
    nodes.add(reduceMean(prefix + "mean_node", x, prefix + "mean", axes, axesInput ? prefix + "axes" : null));
    nodes.add(node(prefix + "centered_node", "Sub", List.of(x, prefix + "mean"), prefix + "centered"));
    nodes.add(node(prefix + "squared_node", "Mul", List.of(prefix + "centered", prefix + "centered"),
        prefix + "squared"));
    nodes.add(reduceMean(prefix + "variance_node", prefix + "squared", prefix + "variance", axes,
        axesInput ? prefix + "axes" : null));
    nodes.add(node(prefix + "shifted_node", "Add", List.of(prefix + "variance", prefix + "epsilon"),
        prefix + "shifted"));
    nodes.add(node(prefix + "deviation_node", "Sqrt", List.of(prefix + "shifted"), prefix + "deviation"));
    nodes.add(node(prefix + "normalized_node", "Div", List.of(prefix + "centered", prefix + "deviation"),
        prefix + "normalized"));
    nodes.add(node(prefix + "scaled_node", "Mul", List.of(prefix + "normalized", prefix + "scale"),
        prefix + "scaled"));
    nodes.add(node(prefix + "output_node", "Add", List.of(prefix + "scaled", prefix + "bias"), node.outputs().get(0)));
    return nodes;
  }

  /** A constant in the element type of the input it is computed with (float16, float64, else float32). */
  private static byte[] constant(int elemType, String name, long[] dims, double[] values) {
    return switch (elemType) {
      case OnnxProto.FLOAT16 -> OnnxWriter.halves(name, dims, values);
      case OnnxProto.DOUBLE -> OnnxWriter.doubles(name, dims, values);
      default -> OnnxWriter.floats(name, dims, values);
    };
  }

  private static byte[] reduceMean(String name, String input, String output, long[] axes, String axesInput) {
    return OnnxWriter.message(out -> {
      out.writeString(1, input);
      if (axesInput != null) {
        out.writeString(1, axesInput);
      }
      out.writeString(2, output);
      out.writeString(3, name);
      out.writeString(4, "ReduceMean");
      out.writeByteArray(5, attribute("keepdims", null, 1));
      if (axesInput == null) {
        out.writeByteArray(5, attribute("axes", axes, 0));
      }
    });
  }

  private static byte[] node(String name, String op, List<String> inputs, String output) {
    return OnnxWriter.message(out -> {
      for (String input : inputs) {
        out.writeString(1, input);
      }
      out.writeString(2, output);
      out.writeString(3, name);
      out.writeString(4, op);
    });
  }

  /** An INTS attribute when {@code ints} is given, else an INT attribute of value {@code i}. */
  private static byte[] attribute(String name, long[] ints, long i) {
    return OnnxWriter.message(out -> {
      out.writeString(1, name);
      if (ints != null) {
        for (long v : ints) {
          out.writeInt64(8, v);
        }
        out.writeEnum(20, 7);
      } else {
        out.writeInt64(3, i);
        out.writeEnum(20, 2);
      }
    });
  }
}
