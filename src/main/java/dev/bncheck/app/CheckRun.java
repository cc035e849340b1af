package dev.bncheck.app;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.FailOn;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.RunInfo;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.engine.CalibrationData;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.load.Sha256;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/** What {@code inspect} and {@code check} do below their parsing: read the model (and data), analyse, report. */
public final class CheckRun {

  /**
   * How the report records the run.
   *
   * @param version bncheck's version
   * @param relaxations the safety checks the user relaxed, as options
   */
  public record Settings(String version, FailOn failOn, List<String> relaxations, boolean requireBn) {

    public Settings {
      relaxations = List.copyOf(relaxations);
    }

    RunInfo run(String command, String modelSha256, String data, String dataSha256) {
      return new RunInfo(version, command, modelSha256, data, dataSha256, failOn, relaxations, requireBn);
    }
  }

  /**
   * A model to check.
   *
   * @param modelOptions how to read the model's own file
   */
  public record Request(Path model, ModelLoader loader, LoadOptions modelOptions, Settings settings) {}

  private CheckRun() {}

  /** The checks that need no data. */
  public static Report inspect(Request request, Analyzer analyzer) {
    BackgroundHash modelHash = BackgroundHash.of(() -> Sha256.of(request.model()));
    BnModel loaded = request.loader().load(request.model(), request.modelOptions(), CalibrationSink.NONE);
    return analyzer.analyze(loaded, CalibrationData.NONE, Analyzer.DataAvailability.NOT_REQUESTED,
        request.settings().run("inspect", modelHash.get(), "none", null));
  }

  /**
   * Every check, on the data {@code calibration} names, read by the route the model's kind takes.
   *
   * @param progress wraps the sink the data streams into, to show how far the run is
   * @throws UsageException when an option does not apply to the model's kind
   */
  public static Report check(Request request, CalibrationRequest calibration, Analyzer analyzer,
      UnaryOperator<CalibrationSink> progress) {
    calibration.requireConsistent();
    ModelLoader loader = request.loader();
    Optional<Path> dump = dumpOf(loader, calibration);
    BackgroundHash modelHash = BackgroundHash.of(() -> Sha256.of(request.model()));
    BackgroundHash dataHash = BackgroundHash.of(() -> calibration.inputs().isEmpty() ? null
        : Sha256.ofAll(calibration.dataFiles()));
    CalibrationAccumulator collected = new CalibrationAccumulator(analyzer::trainingViewMatters);
    CalibrationSink sink = progress.apply(collected);
    LoadOptions modelOptions = request.modelOptions();
    CalibrationReading.Read read = CalibrationReading.read(loader, new CalibrationReading.Request(request.model(),
        modelOptions, loader.runsModel() ? calibration.runOptions(modelOptions) : modelOptions, dump,
        calibration.trainingView()), collected, sink);
    sink.progressEnded();
    RunInfo run = request.settings().run("check", modelHash.get(), read.data(), dataHash.get())
        .withBatches(read.batches()).withBackend(read.backend());
    return analyzer.analyze(read.model(), collected, calibration.synthetic() != null
        ? Analyzer.DataAvailability.SYNTHETIC : Analyzer.DataAvailability.REQUESTED, run);
  }

  /** The dump of activations given for a model no backend runs, refusing the options such a model cannot take. */
  private static Optional<Path> dumpOf(ModelLoader loader, CalibrationRequest calibration) {
    List<String> inputs = calibration.inputs();
    if (loader.runsModel()) {
      if (!calibration.inputNodes().isEmpty() && inputs.isEmpty() && calibration.synthetic() == null) {
        throw new UsageException("--input-node feeds data: give it with --inputs or --synthetic");
      }
      return Optional.empty();
    }
    if (calibration.synthetic() != null) {
      throw new UsageException("--synthetic applies to TensorFlow and ONNX models only");
    }
    if (!calibration.inputNodes().isEmpty()) {
      throw new UsageException("--input-node applies to TensorFlow models only");
    }
    // a dump may record the training view, so whether to use it applies; how to run it does not
    List<String> runOnly = calibration.runOptionsGiven().stream().filter(o -> !o.equals("--training-view")).toList();
    if (!runOnly.isEmpty()) {
      throw new UsageException(runOnly.get(0) + " applies to TensorFlow and ONNX models, which"
          + " bncheck runs; this model's data comes as recorded");
    }
    if (inputs.isEmpty()) {
      return Optional.empty();
    }
    List<Path> files = calibration.dataFiles();
    if (inputs.size() > 1 || files.size() != 1 || files.get(0).toString().length() < inputs.get(0).length()) {
      throw new UsageException("a dump takes one --inputs FILE (a dump with \"inputs\"), not " + String.join(" ", inputs));
    }
    return Optional.of(files.get(0));
  }
}
