package dev.bncheck.app;

import dev.bncheck.analysis.Glob;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.ModelLoader;
import dev.bncheck.load.array.ModelInputs;
import dev.bncheck.load.array.NpyReader;
import dev.bncheck.load.dump.BnModelFromDump;
import dev.bncheck.model.Tensor;
import dev.bncheck.repair.DataSplit;
import dev.bncheck.repair.DumpRecalibrationRun;
import dev.bncheck.repair.ModelRecalibration;
import dev.bncheck.report.RecalibrationReport;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** What {@code recalibrate} does below its parsing: a model or a dump, its data read and split, the run. */
public final class RecalibrationRun {

  /**
   * What to recalibrate, as the command line gave it; null where an option was not given.
   *
   * @param inputs the {@code --inputs} specs
   * @param labels the samples' class labels (.npy)
   * @param layers the glob naming the layers to recalibrate
   * @param heldOut the fraction of the samples held out to verify the result
   * @param options how to read and run the model
   */
  public record Request(Path model, ModelLoader loader, List<String> inputs, Path labels, Path out, boolean force,
      boolean toInferenceMode, String layers, Integer maxSamples, double heldOut, int batchSize, LoadOptions options) {

    public Request {
      inputs = List.copyOf(inputs);
    }
  }

  private RecalibrationRun() {}

  /** Whether the model's kind can be recalibrated at all, checked before anything is read. */
  public static void requireRecalibratable(ModelLoader loader) {
    if (!(loader instanceof BnModelFromDump) && !loader.writesStatistics()) {
      throw new UsageException("recalibrate takes a TensorFlow SavedModel directory, an ONNX model or a bncheck JSON"
          + " dump" + loader.recalibrateInstead().map(instead -> "; " + instead).orElse(""));
    }
  }

  /**
   * Recalibrates and writes the fixed model, unless a guard refuses it (the report says why).
   *
   * @throws UsageException when the options do not fit the model or each other
   */
  public static RecalibrationReport run(Request request) {
    requireRecalibratable(request.loader());
    if (Files.exists(request.out()) && !request.force()) {
      throw new UsageException("--out " + request.out() + " exists; pass --force to replace it");
    }
    if (!(request.heldOut() >= 0 && request.heldOut() < 1)) {
      throw new UsageException("--held-out must be in [0, 1), got " + request.heldOut());
    }
    if (request.batchSize() < 1) {
      throw new UsageException("--batch-size must be at least 1, got " + request.batchSize());
    }
    CalibrationRequest.requireWellFormed(request.inputs());
    boolean dump = request.loader() instanceof BnModelFromDump;
    if (!Files.isDirectory(request.model()) && Files.isDirectory(request.out())) {
      throw new UsageException("--out " + request.out() + " is a folder; the fixed " + (dump ? "dump" : "model")
          + " is one file");
    }
    Glob layers = Glob.of(request.layers());
    return dump ? dump(request, layers) : model(request, layers);
  }

  private static RecalibrationReport model(Request request, Glob layers) {
    if (request.inputs().isEmpty()) {
      throw new UsageException("a model needs --inputs with calibration data");
    }
    Map<String, Tensor> data = ModelInputs.read(request.inputs());
    if (request.maxSamples() != null) {
      if (request.maxSamples() < 2) {
        throw new UsageException("--max-samples needs at least 2 samples");
      }
      data = DataSplit.firstSamples(data, request.maxSamples());
    }
    DataSplit split = DataSplit.of(data, request.heldOut());
    int[] heldOutLabels = request.labels() == null ? null : heldOutLabels(request, split);
    return ModelRecalibration.run(request.loader(), new ModelRecalibration.Settings(request.model(), request.out(),
        request.force(), request.toInferenceMode(), layers, request.heldOut(), request.batchSize(), request.options()),
        split, heldOutLabels);
  }

  /** A dump: each layer's statistics from its own captured activations (see DumpRecalibrationRun). */
  private static RecalibrationReport dump(Request request, Glob layers) {
    if (request.labels() != null || request.inputs().size() > 1) {
      throw new UsageException("a dump takes at most one --inputs (a dump with \"inputs\") and no --labels");
    }
    try {
      return DumpRecalibrationRun.run(request.loader(), request.model(),
          request.inputs().stream().findFirst().map(Path::of), request.out(), request.force(), layers,
          request.heldOut());
    } catch (UncheckedIOException e) {
      throw new OutputException(e.getMessage(), e);
    }
  }

  /** The labels of the held-out samples, split as the data was. */
  private static int[] heldOutLabels(Request request, DataSplit split) {
    Tensor all = NpyReader.read(request.labels());
    int samples = split.calibrationSamples() + (request.heldOut() == 0 ? 0 : split.heldOutSamples());
    if (all.shape().length != 1 || all.shape()[0] < samples) {
      throw new InvalidInputException(request.labels().toString(), "", "expected one label per sample (" + samples
          + "), got shape " + Arrays.toString(all.shape()));
    }
    Tensor held = DataSplit.of(Map.of("", DataSplit.firstSamples(Map.of("", all), samples).get("")),
        request.heldOut()).heldOut().get("");
    int[] labels = new int[held.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = (int) held.get(i);
    }
    return labels;
  }
}
