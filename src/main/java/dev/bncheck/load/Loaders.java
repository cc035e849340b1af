package dev.bncheck.load;

import dev.bncheck.load.dump.BnModelFromDump;
import dev.bncheck.load.dump.CalibrationFromDump;
import dev.bncheck.load.keras.BnModelFromKeras;
import dev.bncheck.load.onnx.BnModelFromOnnx;
import dev.bncheck.load.pytorch.BnModelFromSafetensors;
import dev.bncheck.load.pytorch.BnModelFromTorchSave;
import dev.bncheck.load.tensorflow.BnModelFromFrozenGraph;
import dev.bncheck.load.tensorflow.BnModelFromSavedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The registered loaders; a new input kind is one class plus one line here. */
public final class Loaders {

  private static final List<ModelLoader> MODEL_LOADERS =
      List.of(new BnModelFromDump(), new BnModelFromOnnx(), new BnModelFromSavedModel(),
          new BnModelFromKeras(),
          new BnModelFromFrozenGraph(), new BnModelFromTorchSave(), new BnModelFromSafetensors());

  private static final List<CalibrationLoader> CALIBRATION_LOADERS =
      List.of(new CalibrationFromDump());

  private Loaders() {}

  public static ModelLoader forModel(Path input) {
    requireReadable(input);
    for (ModelLoader loader : MODEL_LOADERS) {
      if (loader.accepts(input)) {
        return loader;
      }
    }
    throw new InvalidInputException(
        input.toString(), "", "not a model bncheck can read (expected " + kinds(MODEL_LOADERS) + ")");
  }

  public static CalibrationLoader forCalibration(Path input) {
    requireReadable(input);
    for (CalibrationLoader loader : CALIBRATION_LOADERS) {
      if (loader.accepts(input)) {
        return loader;
      }
    }
    throw new InvalidInputException(
        input.toString(),
        "",
        "not calibration data bncheck can read (expected "
            + String.join(", ", CALIBRATION_LOADERS.stream().map(CalibrationLoader::description).toList())
            + ")");
  }

  private static String kinds(List<ModelLoader> loaders) {
    return String.join(", ", loaders.stream().map(ModelLoader::description).toList());
  }

  private static void requireReadable(Path input) {
    if (!Files.exists(input)) {
      throw new InvalidInputException(input.toString(), "", "no such file or directory");
    }
    if (!Files.isReadable(input)) {
      throw new InvalidInputException(input.toString(), "", "not readable");
    }
  }
}
