package dev.bncheck.load.tensorflow;

import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.InvalidOptionException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Tensors inside a model's graph fed instead of its inputs ({@code --input-node}): a cut point
 * past a front end bncheck cannot feed, such as the MFCC features a keyword-spotting graph
 * computes from a WAV file. TensorFlow runs only what the fetches need beyond the fed tensors;
 * the op check still covers everything the fetches depend on, the cut-off front end included.
 * Only nodes of the model's own top-level graph can be fed: a tensor inside a function is not
 * a tensor of the session's graph.
 */
final class InputNodes {

  /** {@code node} or {@code node:index}, the index as TensorFlow writes it. */
  private static final Pattern NAME = Pattern.compile("[^:^]+(:(0|[1-9][0-9]{0,8}))?");

  private InputNodes() {}

  /**
   * Checks, before TensorFlow runs anything, that every name is a tensor of a node of the
   * model's top-level graph, given once.
   */
  static void requireKnown(TfGraph graph, List<String> names, String location) {
    Set<String> tensors = new HashSet<>();
    for (String name : names) {
      if (!NAME.matcher(name).matches()) {
        throw new InvalidOptionException("--input-node " + name, "expected NODE or NODE:INDEX, as in Mfcc:0");
      }
      GraphScope.Ref ref = GraphScope.Ref.parse(name);
      if (!tensors.add(ref.node() + ":" + ref.index())) {
        throw new InvalidOptionException("--input-node " + name, "names a tensor given before");
      }
      if (graph.topLevel().node(ref.node()) == null) {
        throw new InvalidInputException(location, "--input-node " + name, "the graph has no node "
            + ModelSafety.shortened(ref.node()) + (graph.functions().isEmpty() ? ""
                : "; only nodes of the top-level graph can be fed, not nodes inside its functions"));
      }
    }
  }

  /**
   * The tensors as model inputs, keyed by the names as given (for {@code --inputs NAME=FILE}),
   * with the dtype and shape TensorFlow infers for them in the imported graph.
   */
  static List<ModelRunner.Input> resolve(Graph graph, TfGraph model, List<String> names, String location) {
    requireKnown(model, names, location);
    List<ModelRunner.Input> inputs = new ArrayList<>();
    for (String name : names) {
      GraphScope.Ref ref = GraphScope.Ref.parse(name);
      GraphOperation operation = graph.operation(ref.node());
      if (ref.index() >= operation.numOutputs()) {
        throw new InvalidInputException(location, "--input-node " + name, "node " + ref.node() + " has "
            + operation.numOutputs() + (operation.numOutputs() == 1 ? " output" : " outputs"));
      }
      Output<?> output = operation.output(ref.index());
      inputs.add(new ModelRunner.Input(name, ref.node() + ":" + ref.index(), output.dataType(), proto(output.shape())));
    }
    return inputs;
  }

  private static TensorShapeProto proto(Shape shape) {
    TensorShapeProto.Builder proto = TensorShapeProto.newBuilder();
    if (shape.isUnknown()) {
      return proto.setUnknownRank(true).build();
    }
    for (int d = 0; d < shape.numDimensions(); d++) {
      proto.addDim(TensorShapeProto.Dim.newBuilder().setSize(shape.get(d)));
    }
    return proto.build();
  }
}
