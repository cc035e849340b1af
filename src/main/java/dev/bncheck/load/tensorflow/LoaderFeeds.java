package dev.bncheck.load.tensorflow;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.bncheck.load.InvalidInputException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.AssetFileDef;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.MetaGraphDef;

/**
 * The tensors TensorFlow's loader feeds besides the checkpoint path: each asset's tensor gets
 * {@code <model>/assets/<filename>} in the restore and init runs ({@code asset_file_def}, or the
 * {@code saved_model_assets} collection when that is empty). An asset filename is model-controlled
 * and TensorFlow resolves {@code ..} and globs in it, so only plain relative names are accepted.
 */
final class LoaderFeeds {

  private LoaderFeeds() {}

  /** The asset tensors as {@code node:index}; refuses a filename that could name a file outside {@code assets/}. */
  static Set<String> assetTensors(MetaGraphDef meta, String location) {
    List<AssetFileDef> assets = new ArrayList<>(meta.getAssetFileDefList());
    CollectionDef collection = meta.getCollectionDefMap().get("saved_model_assets");
    if (assets.isEmpty() && collection != null) {
      for (var any : collection.getAnyList().getValueList()) {
        try {
          assets.add(AssetFileDef.parseFrom(any.getValue()));
        } catch (InvalidProtocolBufferException e) {
          throw new InvalidInputException(location, "saved_model_assets", "holds an entry that is not an asset");
        }
      }
    }
    Set<String> tensors = new HashSet<>();
    for (AssetFileDef asset : assets) {
      String name = asset.getFilename();
      if (!plain(name)) {
        throw new InvalidInputException(location, "asset " + ModelSafety.shortened(name), "is not a plain file name inside"
            + " assets/ (TensorFlow would resolve it to a path outside the model); refused before running anything");
      }
      String tensor = asset.getTensorInfo().getName();
      if (!GraphScope.Ref.canonical(tensor)) {
        throw new InvalidInputException(location, "asset " + name, "names the tensor " + ModelSafety.shortened(tensor)
            + ", which TensorFlow may read as another tensor than bncheck checks");
      }
      tensors.add(ModelSafety.tensorKey(tensor));
    }
    return tensors;
  }

  /** A relative name that can only name a file below the folder it is appended to. */
  private static boolean plain(String name) {
    return !name.isEmpty() && !name.startsWith("/") && CheckpointPaths.staysBelow(name);
  }
}
