package dev.bncheck.samples.mistakes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** One in-process {@code bncheck check MODEL --inputs DATA --format json} and its parsed findings. */
record BnCheckRun(int exitCode, List<Finding> findings, String stdout, String stderr) {

  record Finding(String code, String layer, String severity, String message) {}

  static final Path DATA_DIR = Path.of("samples", "tf-bn-mistakes", "tf1-data");
  static final Path INPUTS = DATA_DIR.resolve("inputs.npy");

  /** A TF1 mistake model on the TF1 held-out inputs. */
  static BnCheckRun check(Path model) {
    return check(model, INPUTS);
  }

  static BnCheckRun check(Path model, Path inputs) {
    return run("check", model.toString(), "--inputs", inputs.toString(), "--format", "json");
  }

  /** Any bncheck command line; pass {@code --format json} to get findings (other output is kept as text). */
  static BnCheckRun run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code;
    try (PrintWriter o = new PrintWriter(out); PrintWriter e = new PrintWriter(err)) {
      code = Main.commandLine(o, e).execute(args);
    }
    List<Finding> findings = new ArrayList<>();
    String json = out.toString();
    if (json.stripLeading().startsWith("{")) {
      try {
        JsonNode root = new ObjectMapper().readTree(json);
        for (JsonNode f : root.path("findings")) {
          findings.add(new Finding(f.path("code").asText(), f.path("layer").asText(null),
              f.path("severity").asText(null), f.path("message").asText(null)));
        }
      } catch (IOException ex) {
        throw new UncheckedIOException("bncheck wrote no valid JSON: " + json + "\n" + err, ex);
      }
    }
    return new BnCheckRun(code, findings, json, err.toString());
  }

  /** The distinct finding codes, sorted. */
  TreeSet<String> codes() {
    TreeSet<String> codes = new TreeSet<>();
    findings.forEach(f -> codes.add(f.code()));
    return codes;
  }

  /** Each finding as code and layer, e.g. {@code BN001 bn1}, in report order. */
  List<String> codesAndLayers() {
    return findings.stream().map(f -> f.code() + " " + f.layer()).toList();
  }

  /** e.g. {@code BN001 bn1, BN001 bn2}. */
  String summary() {
    return findings.isEmpty() ? "none" : String.join(", ", codesAndLayers());
  }
}
