package dev.bncheck.analysis;

/**
 * What makes a run reproducible, besides the thresholds.
 *
 * @param command {@code inspect} or {@code check}
 * @param modelSha256 hex SHA-256 of the model file
 * @param data where calibration data came from: {@code none}, {@code embedded in model}, or a path
 * @param dataSha256 hex SHA-256 of the calibration file, or null when there is none apart from the model
 * @param relaxed the safety checks the user relaxed ({@code --trust-model}, {@code --allow-op X})
 * @param requireBn a model without BN layers fails ({@code --require-bn}): in a CI gate, a truncated
 *     or wrong artifact must not pass for want of anything to check
 * @param batches how the calibration data was formed into batches, which training-mode statistics
 *     depend on; empty when there was no data
 * @param backend what ran the model, or null when nothing did
 */
public record RunInfo(String toolVersion, String command, String modelSha256, String data, String dataSha256,
    FailOn failOn, java.util.List<String> relaxed, boolean requireBn, String batches,
    dev.bncheck.model.Backend backend) {

  public RunInfo(String toolVersion, String command, String modelSha256, String data, String dataSha256,
      FailOn failOn, java.util.List<String> relaxed, boolean requireBn) {
    this(toolVersion, command, modelSha256, data, dataSha256, failOn, relaxed, requireBn, "", null);
  }

  public RunInfo(String toolVersion, String command, String modelSha256, String data, String dataSha256, FailOn failOn) {
    this(toolVersion, command, modelSha256, data, dataSha256, failOn, java.util.List.of(), false);
  }

  public RunInfo(String toolVersion, String command, String modelSha256, String data, String dataSha256, FailOn failOn,
      java.util.List<String> relaxed) {
    this(toolVersion, command, modelSha256, data, dataSha256, failOn, relaxed, false);
  }

  public RunInfo {
    relaxed = java.util.List.copyOf(relaxed);
    java.util.Objects.requireNonNull(batches, "batches");
  }

  /** This run, saying how its batches were formed. */
  public RunInfo withBatches(String formed) {
    return new RunInfo(toolVersion, command, modelSha256, data, dataSha256, failOn, relaxed, requireBn, formed,
        backend);
  }

  /** This run, saying what ran the model. */
  public RunInfo withBackend(dev.bncheck.model.Backend ran) {
    return new RunInfo(toolVersion, command, modelSha256, data, dataSha256, failOn, relaxed, requireBn, batches, ran);
  }

  /**
   * The runtime whose BN outputs the self-check compared with. Reports made without a backend
   * (built by hand) predate the ONNX backend: TensorFlow ran them.
   */
  public String runtime() {
    return backend == null ? "TensorFlow" : backend.runtime();
  }

  /** A model output as the backend names it: {@code signature output logits}, {@code graph output logits}. */
  public String output(String name) {
    return (backend == null ? "signature output" : backend.outputs()) + " " + name;
  }
}
