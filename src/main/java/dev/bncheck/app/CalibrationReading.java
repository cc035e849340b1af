package dev.bncheck.app;

import dev.bncheck.analysis.TrainingViewSample;
import dev.bncheck.load.BatchOrder;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.CalibrationLoader;
import dev.bncheck.load.CalibrationPasses;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.Loaders;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.load.ModelSession;
import dev.bncheck.load.dump.BnModelFromDump;
import dev.bncheck.model.Backend;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * What {@code check} reads, below the command that parsed what to read: the model by its loader,
 * and its calibration data by the route the model's kind takes (run by its backend on the data,
 * embedded in a dump, or a dump's activations for a checkpoint), with the labels the report gives
 * the data and its batches.
 */
public final class CalibrationReading {

  /**
   * What to read.
   *
   * @param modelOptions how to read the model's own file
   * @param runOptions how to run a model a backend runs: the data, batches, views and limits
   * @param dump the dump of activations given for a model no backend runs, if any
   * @param trainingView when layers are run on the training view: {@code ALWAYS} every one, else
   *     those the first pass leaves in doubt (the run options say when there is none)
   */
  public record Request(Path model, LoadOptions modelOptions, LoadOptions runOptions, Optional<Path> dump,
      CalibrationRequest.TrainingView trainingView) {}

  /**
   * What was read.
   *
   * @param data how the report names the calibration data
   * @param batches how the report says the batches were formed; empty without data
   * @param backend the runtime that ran the model, or null when none did
   */
  public record Read(BnModel model, String data, String batches, Backend backend) {}

  private CalibrationReading() {}

  /**
   * Reads the model and streams its calibration data into {@code sink}, which ends in
   * {@code collected}; a backend's training view runs where {@code collected} still wants it.
   */
  public static Read read(ModelLoader loader, Request request, CalibrationAccumulator collected,
      CalibrationSink sink) {
    Path model = request.model();
    if (loader.runsModel()) {
      return run(loader, request, collected, sink);
    }
    if (request.dump().isEmpty()) {
      BnModel loaded = loader.load(model, request.modelOptions(), sink);
      // a dump may carry its activations; a Keras file or a checkpoint never does
      boolean dump = loader instanceof BnModelFromDump;
      return new Read(loaded, dump ? "embedded in model" : "none (give --inputs DUMP, a dump whose layers carry"
          + " \"inputs\")", dump ? recordedBatches(request.trainingView(), collected, loaded) : "", null);
    }
    Path file = request.dump().get();
    CalibrationLoader calibration = Loaders.forCalibration(file);
    // a checkpoint that records no epsilon, momentum or axis takes the dump's, which the exporter read from the model
    LoadOptions options = loader instanceof BnModelFromDump ? request.modelOptions()
        : request.modelOptions().withRecordedConventions(calibration.conventions(file));
    BnModel loaded = loader.load(model, options, CalibrationSink.NONE);
    calibration.load(file, loaded, sink);
    return new Read(loaded, file.toString(), recordedBatches(request.trainingView(), collected, loaded), null);
  }

  /**
   * Keeps the training view a dump recorded ({@code training_inputs}) where the run wants it, as
   * a backend would have run it, and says how the batches came.
   */
  private static String recordedBatches(CalibrationRequest.TrainingView when, CalibrationAccumulator collected,
      BnModel model) {
    if (!trainingViewWanted(when, collected).test(model.layers())) {
      collected.discardTrainingView();
    }
    long samples = collected.trainingViewSamples();
    Optional<String> notASample = samples == 0 ? Optional.empty() : firstLayerWithData(collected, model)
        .flatMap(i -> TrainingViewSample.notASample(collected.layer(i).orElseThrow(),
            collected.trainingView(i).orElseThrow()));
    if (notASample.isPresent()) {
      collected.discardTrainingView();
      return "as recorded in the dump; its training view (every BN layer in training mode) on " + samples
          + " samples is left out: " + notASample.get();
    }
    return "as recorded in the dump" + (samples == 0 ? ""
        : ", with its training view (every BN layer in training mode) on " + samples + " samples");
  }

  /** The first layer with data, if the training view holds it too. */
  private static Optional<Integer> firstLayerWithData(CalibrationAccumulator collected, BnModel model) {
    for (int i = 0; i < model.layers().size(); i++) {
      if (collected.layer(i).isPresent()) {
        return collected.trainingView(i).isPresent() ? Optional.of(i) : Optional.empty();
      }
    }
    return Optional.empty();
  }

  /**
   * Whether the training view is wanted once the inference view is in ({@code --training-view}):
   * for a backend's second pass and for the view a dump recorded alike.
   */
  private static Predicate<List<BnLayer>> trainingViewWanted(CalibrationRequest.TrainingView when,
      CalibrationAccumulator collected) {
    return switch (when) {
      case ALWAYS -> layers -> true;
      case NEVER -> layers -> false;
      case AUTO -> collected::wantsTrainingView;
    };
  }

  private static Read run(ModelLoader loader, Request request, CalibrationAccumulator collected,
      CalibrationSink sink) {
    LoadOptions options = request.runOptions();
    if (!options.runsOnData()) {
      return new Read(loader.load(request.model(), options, CalibrationSink.NONE),
          "none (give --inputs to analyse data)", "", null);
    }
    BnModel loaded;
    Backend backend;
    try (ModelSession session = loader.open(request.model(), options)) {
      loaded = session.model();
      backend = session.backend();
      CalibrationPasses.run(session, sink, trainingViewWanted(request.trainingView(), collected));
    }
    int synthetic = options.syntheticSamples();
    String data = (!options.inputs().isEmpty() ? String.join(" ", options.inputs())
        : "synthetic: " + synthetic + " random samples (data-driven findings are indicative only)")
        + (options.tensorFlow().inputNodes().isEmpty() ? "" : ", fed at " + String.join(", ", options.tensorFlow().inputNodes()))
        + collected.maskedSteps().map(note -> " (" + note + ")").orElse("");
    String size = collected.fixedBatch().map(f -> "of " + f.batchSize() + " samples, the batch the model fixes"
        + (f.samplesLeftOut() > 0 ? " (" + f.samplesLeftOut() + " of the data's samples left out: it takes whole"
            + " batches only)" : "")).orElse("of up to " + options.batchSize() + " samples");
    String batches = size + (options.batchOrder() == BatchOrder.SHUFFLED && synthetic == 0
        ? ", drawn in a fixed shuffled order (--batch-order)" : ", in the file's order");
    return new Read(loaded, data, batches, backend);
  }
}
