package dev.bncheck.repair;

import dev.bncheck.analysis.Glob;
import dev.bncheck.load.InvalidOptionException;
import dev.bncheck.load.Loaders;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.load.dump.DumpStatisticsWriter;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.report.AtomicFile;
import dev.bncheck.report.RecalibrationReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Recalibrates a dump ({@link DumpRecalibration}) under the same guards as a model
 * ({@link RecalibrationGuard#ofDump}) and writes the new dump atomically unless refused.
 */
public final class DumpRecalibrationRun {

  private DumpRecalibrationRun() {}

  /**
   * @param activations a calibration dump whose activations replace the dump's own, if given
   * @throws InvalidOptionException when {@code layers} matches no layer with calibration data
   * @throws UncheckedIOException when the new dump cannot be written
   */
  public static RecalibrationReport run(ModelLoader loader, Path dump, Optional<Path> activations, Path out,
      boolean force, Glob layers, double heldOut) {
    BnModel loaded = loader.load(dump, CalibrationSink.NONE);
    Consumer<CalibrationSink> read = activations.isEmpty() ? sink -> loader.load(dump, sink)
        : sink -> Loaders.forCalibration(activations.get()).load(activations.get(), loaded, sink);
    DumpSplit split = DumpSplit.of(read, heldOut);
    DumpRecalibration.Result result = DumpRecalibration.run(loaded, split, layers::matches);
    if (result.statistics().isEmpty()) {
      throw new InvalidOptionException("--layers " + layers.glob(), "matches no layer with calibration data");
    }
    List<String> refusals = RecalibrationGuard.ofDump(loaded, split, result, heldOut > 0);
    boolean write = refusals.isEmpty() || force;
    if (write) {
      try {
        AtomicFile.write(out, w -> DumpStatisticsWriter.write(dump, result.statistics(), w));
      } catch (IOException e) {
        throw new UncheckedIOException(out + ": cannot write the dump: " + e.getMessage(), e);
      }
    }
    List<RecalibrationReport.Row> rows = result.layers().stream()
        .map(r -> new RecalibrationReport.Row(r.name(), r.values(), r.before(), r.after())).toList();
    return new RecalibrationReport(dump.toString(), true, 0, 0, rows, List.of(), Optional.empty(), Optional.empty(),
        refusals, write, out.toString(), List.of());
  }
}
