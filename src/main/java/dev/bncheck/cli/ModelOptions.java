package dev.bncheck.cli;

import dev.bncheck.load.LoadOptions;
import dev.bncheck.load.TensorFlowOptions;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** How to read the model, for the kinds that need it (SavedModels). */
public final class ModelOptions {

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(names = "--tag-set", paramLabel = "TAGS", defaultValue = "serve",
      description = "SavedModel: the meta graph's tags, comma-separated (default: ${DEFAULT-VALUE}).")
  String tagSet;

  @Option(names = "--signature", paramLabel = "KEY", defaultValue = "serving_default",
      description = "SavedModel: the signature whose graph is checked (default: ${DEFAULT-VALUE}).")
  String signature;

  @Option(names = "--allow-op", paramLabel = "OP",
      description = "Let the model run this op although it is not on bncheck's allowlist of pure computation"
          + " ops (repeatable). The report records it.")
  java.util.List<String> allowedOps = new java.util.ArrayList<>();

  @Option(names = "--trust-model",
      description = "Skip the check of the ops a TensorFlow model would run (docs/security.md), and of an ONNX"
          + " model's custom operators and local functions (docs/onnx.md). Only for models you trust: a SavedModel"
          + " is a program. The report records it.")
  boolean trustModel;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
      description = "TensorFlow and ONNX models: the longest one run of the model may take (a TensorFlow"
          + " model's loading, its restore and init ops, or one batch); a model that runs longer is stopped with exit code 3 (default: ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  @Option(names = "--epsilon", paramLabel = "E",
      description = "PyTorch checkpoints and Keras weights-only files: the epsilon of BN layers whose file does not"
          + " record it (a state_dict, a safetensors file or save_weights holds tensors only; default: PyTorch's 1e-5,"
          + " Keras's 1e-3). The report says which values were assumed.")
  Double epsilon;

  @Option(names = "--momentum", paramLabel = "M",
      description = "PyTorch checkpoints and Keras weights-only files: the momentum, in the framework's convention,"
          + " of BN layers whose file does not record it (default: PyTorch's 0.1, Keras's 0.99).")
  Double momentum;

  LoadOptions toLoadOptions() {
    if (timeoutSeconds < 1 || timeoutSeconds > 86_400) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--timeout must be between 1 and 86400 seconds, got " + timeoutSeconds);
    }
    if (allowedOps.stream().anyMatch(String::isBlank)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--allow-op needs an op name, got an empty one");
    }
    if (epsilon != null && !(epsilon > 0 && epsilon < 1)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--epsilon must be in (0, 1), got " + epsilon);
    }
    if (momentum != null && !(momentum > 0 && momentum <= 1)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--momentum must be in (0, 1], got " + momentum);
    }
    return LoadOptions.DEFAULTS.toBuilder()
        .tensorFlow(new TensorFlowOptions(tagSet, signature, java.util.List.of()))
        .allowedOps(java.util.Set.copyOf(allowedOps))
        .trustModel(trustModel)
        .timeout(java.time.Duration.ofSeconds(timeoutSeconds))
        .assumedEpsilon(optional(epsilon))
        .assumedMomentum(optional(momentum))
        .build();
  }

  private static java.util.OptionalDouble optional(Double value) {
    return value == null ? java.util.OptionalDouble.empty() : java.util.OptionalDouble.of(value);
  }

  /** What the user relaxed, for the report; empty when nothing was. */
  java.util.List<String> relaxations() {
    java.util.List<String> out = new java.util.ArrayList<>();
    if (trustModel) {
      out.add("--trust-model");
    }
    allowedOps.stream().sorted().distinct().forEach(op -> out.add("--allow-op " + op));
    return out;
  }
}
