package dev.bncheck.load.tensorflow;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.ModelTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * A SavedModel's {@code saved_model.pb}, read in Java before anything runs: the meta graph for
 * the requested tags and the signature's outputs.
 */
final class SavedModelFile {

  private final Path directory;
  private final MetaGraphDef metaGraph;
  private final String signatureKey;
  private final SignatureDef signature;
  private final List<String> tags;

  private SavedModelFile(Path directory, MetaGraphDef metaGraph, List<String> tags, String signatureKey, SignatureDef signature) {
    this.directory = directory;
    this.metaGraph = metaGraph;
    this.tags = tags;
    this.signatureKey = signatureKey;
    this.signature = signature;
  }

  static Path directoryOf(Path input) {
    return Files.isDirectory(input) ? input : input.toAbsolutePath().getParent();
  }

  static SavedModelFile read(Path input, String tagSet, String signatureKey) {
    Path directory = directoryOf(input);
    Path pb = directory.resolve("saved_model.pb");
    String file = pb.toString();
    if (!Files.isRegularFile(pb)) {
      throw new InvalidInputException(directory.toString(), "", "not a SavedModel: no saved_model.pb");
    }
    // Before anything reads the model, since TensorFlow would follow a link out of it.
    ModelTree.of(directory);
    SavedModel model;
    try {
      model = SavedModel.parseFrom(ProtobufFile.read(pb));
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidInputException(file, "", "not a valid SavedModel (corrupt or truncated): " + firstLine(e.getMessage()));
    } catch (IOException e) {
      throw new InvalidInputException(file, "", "cannot read: " + e.getMessage(), e);
    }
    if (model.getMetaGraphsCount() == 0) {
      throw new InvalidInputException(file, "", "holds no meta graph (corrupt or truncated)");
    }
    Set<String> wanted = new HashSet<>(Arrays.asList(tagSet.split(",")));
    List<String> available = new ArrayList<>();
    for (MetaGraphDef meta : model.getMetaGraphsList()) {
      List<String> tags = meta.getMetaInfoDef().getTagsList();
      available.add(String.join(",", tags));
      if (new HashSet<>(tags).equals(wanted)) {
        return withSignature(directory, file, meta, tags, signatureKey);
      }
    }
    throw new InvalidInputException(file, "--tag-set " + tagSet, "no such meta graph; available tag sets: " + String.join("; ", available));
  }

  private static SavedModelFile withSignature(Path directory, String file, MetaGraphDef meta, List<String> tags, String key) {
    SignatureDef signature = meta.getSignatureDefMap().get(key);
    if (signature == null) {
      Set<String> keys = new TreeSet<>(meta.getSignatureDefMap().keySet());
      keys.remove("__saved_model_init_op");
      throw new InvalidInputException(file, "--signature " + key,
          "no such signature; available: " + (keys.isEmpty() ? "none" : String.join(", ", keys)));
    }
    return new SavedModelFile(directory, meta, tags, key, signature);
  }

  Path directory() {
    return directory;
  }

  MetaGraphDef metaGraph() {
    return metaGraph;
  }

  /**
   * The directory, once it is known to hold the checkpoint loading restores: TensorFlow skips the
   * restore without a word when {@code variables/variables.index} is missing, and every variable
   * then reads as "could not find", which names a variable, not the missing file.
   */
  Path directoryToLoad() {
    if (!metaGraph.getSaverDef().getRestoreOpName().isEmpty()
        && !java.nio.file.Files.isRegularFile(directory.resolve("variables").resolve("variables.index"))) {
      throw new InvalidInputException(directory.toString(), "variables/variables.index", "missing: the checkpoint"
          + " that holds the variables' values is not there (copy the whole SavedModel directory, variables/ too)");
    }
    return directory;
  }

  List<String> tags() {
    return tags;
  }

  String signatureKey() {
    return signatureKey;
  }

  SignatureDef signature() {
    return signature;
  }

  /** The top-level tensors the signature fetches, e.g. {@code StatefulPartitionedCall:0}. */
  List<String> outputTensors() {
    List<String> out = new ArrayList<>();
    for (TensorInfo info : signature.getOutputsMap().values()) {
      if (!info.getName().isEmpty()) {
        out.add(info.getName());
      }
    }
    return out;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
