package dev.bncheck.load.pytorch;

import dev.bncheck.load.AssumedConventions;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Path;

/**
 * Loads the BN layers of a PyTorch checkpoint written by {@code torch.save}: a state_dict, a
 * training checkpoint holding one, or a whole pickled module. The pickle is read by bncheck's own
 * restricted reader and never run (docs/formats.md#pytorch).
 */
public final class BnModelFromTorchSave implements ModelLoader {

  @Override
  public String description() {
    return "a PyTorch checkpoint from torch.save (.pt, .pth)";
  }

  @Override
  public java.util.Optional<String> recalibrateInstead() {
    return java.util.Optional.of(TorchFiles.RECALIBRATE_INSTEAD);
  }

  @Override
  public boolean accepts(Path input) {
    return TorchFiles.looksLikeTorchSave(input);
  }

  @Override
  public BnModel load(Path input, LoadOptions options, CalibrationSink sink) {
    TorchFiles.requireZip(input);
    String file = input.toString();
    try (TorchArchive archive = TorchArchive.open(input)) {
      Object root = new RestrictedUnpickler(file, archive.pickleName(), archive.pickle(), archive::storage).load();
      return TorchModels.of(input, "torch.save checkpoint", StateDictLocator.locate(file, root), AssumedConventions.pytorch(options));
    }
  }
}
