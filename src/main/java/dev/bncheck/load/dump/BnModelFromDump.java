package dev.bncheck.load.dump;

import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Path;

/** Loads a model from a bncheck JSON tensor dump (docs/dump-format.md). */
public final class BnModelFromDump implements ModelLoader {

  @Override
  public String description() {
    return "a bncheck JSON dump (.json)";
  }

  @Override
  public boolean accepts(Path input) {
    return DumpFiles.looksLikeJson(input);
  }

  @Override
  public BnModel load(Path input, LoadOptions options, CalibrationSink sink) {
    return new DumpReader(input, DumpReader.Mode.MODEL, null, sink).read();
  }
}
