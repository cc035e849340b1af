package dev.bncheck.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.analysis.Checks;
import dev.bncheck.analysis.Suppression;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.JacksonMessages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;

/**
 * Project settings in {@code bncheck.json} (found in the working directory, or named with
 * {@code --config}): defaults for the options, and findings to ignore with the reason. Options
 * given on the command line win. Unknown keys are errors, so that a typo does not silently do
 * nothing.
 */
final class ConfigFile implements CommandLine.IDefaultValueProvider {

  static final String NAME = "bncheck.json";

  private static final Map<String, String> THRESHOLDS = Map.of(
      "mean_shift_warn", "--mean-shift-warn", "mean_shift_error", "--mean-shift-error",
      "var_ratio_warn", "--var-ratio-warn", "var_ratio_error", "--var-ratio-error",
      "mode_rms_error", "--mode-rms-error", "dead_eps_factor", "--dead-eps-factor",
      "dead_median_factor", "--dead-median-factor");
  private static final Map<String, String> CALIBRATION = Map.of(
      "batch_size", "--batch-size", "max_samples", "--max-samples", "training_view", "--training-view",
      "training_view_samples", "--training-view-samples");
  private static final Map<String, String> PYTORCH = Map.of("epsilon", "--epsilon", "momentum", "--momentum");

  private final Path path;
  private final Map<String, String> defaults;
  private final List<Suppression> ignores;

  private ConfigFile(Path path, Map<String, String> defaults, List<Suppression> ignores) {
    this.path = path;
    this.defaults = defaults;
    this.ignores = ignores;
  }

  /** The config named by {@code --config} in the arguments, else {@code ./bncheck.json} if present. */
  static Optional<ConfigFile> find(String[] args) {
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        return Optional.of(read(Path.of(args[i + 1])));
      }
      if (args[i].startsWith("--config=")) {
        return Optional.of(read(Path.of(args[i].substring("--config=".length()))));
      }
    }
    Path local = Path.of(NAME);
    return Files.isRegularFile(local) ? Optional.of(read(local)) : Optional.empty();
  }

  static ConfigFile read(Path path) {
    byte[] json;
    try {
      json = Files.readAllBytes(path);
    } catch (IOException e) {
      throw new InvalidInputException(path.toString(), "", Files.exists(path) ? "not readable: " + e.getMessage()
          : "no such file");
    }
    return parse(path, json);
  }

  /** The config in {@code json}, read from {@code path}. */
  static ConfigFile parse(Path path, byte[] json) {
    String file = path.toString();
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new InvalidInputException(file, "", "not valid JSON: " + JacksonMessages.plain(e.getMessage()));
    }
    if (root == null || !root.isObject()) {
      throw new InvalidInputException(file, "", "expected a JSON object");
    }
    Map<String, String> defaults = new LinkedHashMap<>();
    List<Suppression> ignores = new ArrayList<>();
    for (Iterator<String> keys = root.fieldNames(); keys.hasNext(); ) {
      String key = keys.next();
      JsonNode value = root.get(key);
      switch (key) {
        case "fail_on" -> defaults.put("--fail-on", valid(file, key, value));
        case "thresholds" -> section(file, key, value, THRESHOLDS, defaults);
        case "calibration" -> section(file, key, value, CALIBRATION, defaults);
        case "pytorch" -> section(file, key, value, PYTORCH, defaults);
        case "ignore" -> ignores.addAll(ignores(file, value));
        default -> throw new InvalidInputException(file, key,
            "unknown key; a config has fail_on, thresholds, calibration, pytorch and ignore");
      }
    }
    return new ConfigFile(path, defaults, List.copyOf(ignores));
  }

  private static void section(String file, String name, JsonNode value, Map<String, String> known,
      Map<String, String> defaults) {
    if (!value.isObject()) {
      throw new InvalidInputException(file, name, "expected an object");
    }
    for (Iterator<String> keys = value.fieldNames(); keys.hasNext(); ) {
      String key = keys.next();
      String option = known.get(key);
      if (option == null) {
        throw new InvalidInputException(file, name + "." + key,
            "unknown key; " + name + " has " + String.join(", ", new java.util.TreeSet<>(known.keySet())));
      }
      defaults.put(option, valid(file, name + "." + key, value.get(key)));
    }
  }

  private static List<Suppression> ignores(String file, JsonNode value) {
    if (!value.isArray()) {
      throw new InvalidInputException(file, "ignore", "expected an array of {code, layer, reason}");
    }
    List<Suppression> out = new ArrayList<>();
    for (int i = 0; i < value.size(); i++) {
      JsonNode entry = value.get(i);
      String at = "ignore[" + i + "]";
      if (!entry.isObject()) {
        throw new InvalidInputException(file, at, "expected an object {code, layer, reason}");
      }
      for (Iterator<String> keys = entry.fieldNames(); keys.hasNext(); ) {
        String key = keys.next();
        if (!List.of("code", "layer", "reason").contains(key)) {
          throw new InvalidInputException(file, at + "." + key, "unknown key; an ignore has code, layer and reason");
        }
      }
      String reason = entry.path("reason").asText("");
      if (reason.isBlank()) {
        throw new InvalidInputException(file, at + ".reason", "an ignore needs a reason");
      }
      String code = entry.path("code").asText("*");
      if (!code.equals("*") && Checks.DECLARATIONS.stream().noneMatch(d -> d.code().equals(code))) {
        throw new InvalidInputException(file, at + ".code", "unknown finding code " + code + "; the codes are "
            + Checks.DECLARATIONS.get(0).code() + " to " + Checks.DECLARATIONS.get(Checks.DECLARATIONS.size() - 1).code()
            + " (docs/findings.md), or * for all");
      }
      out.add(new Suppression(code, entry.path("layer").asText("**"),
          reason + " (" + file + ")"));
    }
    return out;
  }

  /**
   * The value as the option takes it, checked here so that a bad one names this file and key:
   * checked by the option's converter instead, it was reported as a bad command-line option.
   */
  private static String valid(String file, String key, JsonNode value) {
    String text = scalar(file, key, value);
    String field = key.substring(key.indexOf('.') + 1);
    String problem = switch (field) {
      case "fail_on" -> List.of("info", "warning", "error", "never").contains(text) ? null
          : "expected info, warning, error or never";
      case "training_view" -> List.of("auto", "always", "never").contains(text) ? null
          : "expected auto, always or never";
      case "batch_size", "max_samples" -> wholeNumber(text, 1) ? null : "expected a whole number, 1 or more";
      case "training_view_samples" -> wholeNumber(text, 0) ? null : "expected a whole number, 0 or more";
      case "epsilon" -> number(text, 0, 1) && Double.parseDouble(text) < 1 ? null : "expected a number in (0, 1)";
      case "momentum" -> number(text, 0, 1) ? null : "expected a number in (0, 1]";
      default -> number(text, 0, Double.MAX_VALUE) ? null : "expected a number above 0";
    };
    if (problem != null) {
      throw new InvalidInputException(file, key, problem + ", got " + value);
    }
    return text;
  }

  private static boolean wholeNumber(String text, long least) {
    try {
      return Long.parseLong(text) >= least;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** A finite number above {@code above}, at most {@code most}. */
  private static boolean number(String text, double above, double most) {
    try {
      double d = Double.parseDouble(text);
      return d > above && d <= most && Double.isFinite(d);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static String scalar(String file, String key, JsonNode value) {
    if (!value.isValueNode() || value.isNull()) {
      throw new InvalidInputException(file, key, "expected a number or string");
    }
    return value.asText();
  }

  List<Suppression> ignores() {
    return ignores;
  }

  /**
   * The config's threshold keys that set any of the given options, as the file writes them (e.g.
   * {@code thresholds.mean_shift_warn}).
   */
  List<String> keysSetting(List<String> options) {
    return THRESHOLDS.entrySet().stream()
        .filter(e -> options.contains(e.getValue()) && defaults.containsKey(e.getValue()))
        .map(e -> "thresholds." + e.getKey())
        .sorted()
        .toList();
  }

  Path path() {
    return path;
  }

  @Override
  public String defaultValue(CommandLine.Model.ArgSpec argSpec) {
    if (argSpec instanceof CommandLine.Model.OptionSpec option) {
      return defaults.get(option.longestName());
    }
    return null;
  }
}
