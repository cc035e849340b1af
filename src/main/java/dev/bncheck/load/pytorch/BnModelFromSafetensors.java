package dev.bncheck.load.pytorch;

import dev.bncheck.load.AssumedConventions;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Path;
import java.util.Map;

/** Loads the BN layers of a PyTorch state_dict saved as {@code .safetensors} (docs/formats.md#pytorch). */
public final class BnModelFromSafetensors implements ModelLoader {

  @Override
  public String description() {
    return "a safetensors file (.safetensors)";
  }

  @Override
  public java.util.Optional<String> recalibrateInstead() {
    return java.util.Optional.of(TorchFiles.RECALIBRATE_INSTEAD);
  }

  @Override
  public boolean accepts(Path input) {
    return TorchFiles.looksLikeSafetensors(input);
  }

  @Override
  public BnModel load(Path input, LoadOptions options, CalibrationSink sink) {
    try (SafetensorsFile file = SafetensorsFile.open(input)) {
      // the safetensors library writes the header's keys sorted, so the order is alphabetical, not the network's
      CheckpointWeights weights = new CheckpointWeights(file.tensors(), "the state_dict", Map.of(), null);
      return TorchModels.of(input, "safetensors file", weights, AssumedConventions.pytorch(options));
    }
  }
}
