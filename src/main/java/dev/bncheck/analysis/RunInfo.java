package dev.bncheck.analysis;

/**
 * What makes a run reproducible, besides the thresholds.
 *
 * @param command {@code inspect} or {@code check}
 * @param modelSha256 hex SHA-256 of the model file
 * @param data where calibration data came from: {@code none}, {@code embedded in model}, or a path
 * @param dataSha256 hex SHA-256 of the calibration file, or null when there is none apart from the model
 * @param relaxed the safety checks the user relaxed ({@code --trust-model}, {@code --allow-op X})
 */
public record RunInfo(String toolVersion, String command, String modelSha256, String data, String dataSha256,
    FailOn failOn, java.util.List<String> relaxed) {

  public RunInfo(String toolVersion, String command, String modelSha256, String data, String dataSha256, FailOn failOn) {
    this(toolVersion, command, modelSha256, data, dataSha256, failOn, java.util.List.of());
  }

  public RunInfo {
    relaxed = java.util.List.copyOf(relaxed);
  }
}
