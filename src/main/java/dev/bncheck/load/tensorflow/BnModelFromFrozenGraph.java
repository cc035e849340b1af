package dev.bncheck.load.tensorflow;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tensorflow.proto.GraphDef;

/**
 * Loads the BN layers of a frozen GraphDef ({@code .pb}), whose parameters are constants: read
 * entirely in Java, without starting TensorFlow.
 */
public final class BnModelFromFrozenGraph implements ModelLoader {

  private static final long MAX_SIZE = 2L << 30;

  @Override
  public String description() {
    return "a frozen TensorFlow graph (.pb)";
  }

  @Override
  public boolean accepts(Path input) {
    String name = input.getFileName().toString();
    return Files.isRegularFile(input) && name.endsWith(".pb") && !name.equals("saved_model.pb");
  }

  @Override
  public BnModel load(Path input, LoadOptions options, CalibrationSink sink) {
    GraphDef graphDef;
    try {
      if (Files.size(input) > MAX_SIZE) {
        throw new InvalidInputException(input.toString(), "", "larger than " + MAX_SIZE + " bytes");
      }
      graphDef = GraphDef.parseFrom(Files.readAllBytes(input));
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidInputException(input.toString(), "",
          "not a valid GraphDef (corrupt or truncated): " + TensorFlowRuntime.firstLine(e.getMessage()));
    } catch (IOException e) {
      throw new InvalidInputException(input.toString(), "", "cannot read: " + e.getMessage(), e);
    }
    TfGraph graph = new TfGraph(graphDef);
    LayerAssembler.Layers layers = GraphBnLayers.find(graph, graph.reachableFromSinks()).assemble(VariableReader.NONE);
    return new BnModel(input.toString(), "TensorFlow frozen graph", "tensorflow", null, layers.layers(),
        layers.unresolved());
  }
}
