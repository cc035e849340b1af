package dev.bncheck.cli;

import dev.bncheck.app.OutputException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bncheck.analysis.Baseline;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.Severity;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.JacksonMessages;
import dev.bncheck.report.AtomicFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The baseline file ({@code --baseline}): a sorted JSON list of accepted findings. Recorded on
 * the first run, which then passes; applied on later runs.
 */
final class BaselineFile {

  private static final ObjectMapper JSON = new ObjectMapper();

  private BaselineFile() {}

  static Report apply(Report report, Path file) {
    if (!Files.exists(file)) {
      write(Baseline.of(report), file);
      return Baseline.of(report).apply(report, "recorded in the new baseline " + file);
    }
    return read(file).apply(report, "in the baseline " + file);
  }

  private static Baseline read(Path file) {
    try {
      return parse(file, Files.readAllBytes(file));
    } catch (IOException e) {
      throw new InvalidInputException(file.toString(), "", "not readable: " + e.getMessage());
    }
  }

  /** The baseline in {@code json}, read from {@code file}. */
  static Baseline parse(Path file, byte[] json) {
    try {
      JsonNode root = JSON.readTree(json);
      if (root == null || !"bncheck-baseline".equals(root.path("format").asText()) || !root.path("findings").isArray()) {
        throw new InvalidInputException(file.toString(), "", "not a bncheck baseline");
      }
      List<Baseline.Entry> entries = new ArrayList<>();
      int i = 0;
      for (JsonNode f : root.path("findings")) {
        String at = "findings[" + i++ + "]";
        try {
          entries.add(new Baseline.Entry(f.path("code").asText(), f.path("layer").asText(),
              Severity.valueOf(f.path("severity").asText().toUpperCase(Locale.ROOT))));
        } catch (IllegalArgumentException e) {
          throw new InvalidInputException(file.toString(), at + ".severity", "expected info, warning or error");
        }
      }
      return new Baseline(entries);
    } catch (IOException e) {
      throw new InvalidInputException(file.toString(), "", "not valid JSON: " + JacksonMessages.plain(e.getMessage()));
    }
  }

  private static void write(Baseline baseline, Path file) {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", "bncheck-baseline");
    root.put("version", 1);
    ArrayNode findings = root.putArray("findings");
    baseline.entries().stream()
        .sorted(java.util.Comparator.comparing(Baseline.Entry::layer).thenComparing(Baseline.Entry::code))
        .forEach(e -> findings.addObject().put("code", e.code()).put("layer", e.layer())
            .put("severity", e.severity().label()));
    try {
      AtomicFile.write(file, out -> out.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n"));
    } catch (IOException e) {
      throw new OutputException(file + ": cannot write the baseline: " + e.getMessage(), e);
    }
  }
}
