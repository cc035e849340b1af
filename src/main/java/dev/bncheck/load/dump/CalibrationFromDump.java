package dev.bncheck.load.dump;

import dev.bncheck.load.CalibrationLoader;
import dev.bncheck.load.RecordedConventions;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Path;

/**
 * Reads calibration activations from a bncheck JSON dump whose layers carry {@code inputs};
 * layers are matched to the model by name, and their parameters, if present, must be the model's.
 */
public final class CalibrationFromDump implements CalibrationLoader {

  @Override
  public String description() {
    return "a bncheck JSON dump with \"inputs\" (.json)";
  }

  @Override
  public boolean accepts(Path input) {
    return DumpFiles.looksLikeJson(input);
  }

  @Override
  public void load(Path input, BnModel model, CalibrationSink sink) {
    new DumpReader(input, DumpReader.Mode.CALIBRATION, model, sink).read();
  }

  @Override
  public RecordedConventions conventions(Path input) {
    return new DumpReader(input, DumpReader.Mode.CONVENTIONS, null, CalibrationSink.NONE).conventions();
  }
}
