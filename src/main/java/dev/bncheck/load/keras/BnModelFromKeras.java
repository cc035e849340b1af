package dev.bncheck.load.keras;

import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Loads the BN layers of a Keras model file, a Keras 3 archive ({@code .keras}) or a legacy HDF5
 * file ({@code .h5}, Keras 2 and 3), reading the file in Java. bncheck does not run these models:
 * their calibration activations come from a dump ({@code check MODEL --inputs DUMP}), matched by
 * layer name. Names no HDF5 class, so that jhdf is loaded only when a Keras file is read.
 */
public final class BnModelFromKeras implements ModelLoader {

  @Override
  public String description() {
    return "a Keras model (.keras, or a legacy .h5)";
  }

  @Override
  public java.util.Optional<String> recalibrateInstead() {
    return java.util.Optional.of("from a Keras model write one with model.export(DIR) or scripts/bn_dump_keras.py (docs/exporters.md)");
  }

  @Override
  public boolean accepts(Path input) {
    if (!Files.isRegularFile(input) || input.getFileName() == null) {
      return false;
    }
    String name = input.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".keras") || name.endsWith(".h5") || name.endsWith(".hdf5");
  }

  @Override
  public BnModel load(Path input, LoadOptions options, CalibrationSink sink) {
    return KerasFile.read(input, options);
  }
}
