package dev.bncheck.cli;

import dev.bncheck.analysis.Analyzer;
import dev.bncheck.analysis.Checks;
import dev.bncheck.analysis.FailOn;
import dev.bncheck.analysis.Report;
import dev.bncheck.analysis.RunInfo;
import dev.bncheck.analysis.Thresholds;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.InvalidInputException;
import dev.bncheck.load.dump.BnModelFromDump;
import dev.bncheck.model.BnModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.IntRange;

/** Mutated config and baseline files, parsed in memory, give settings or a clean input error, never anything else. */
class ConfigFilesFuzzTest {

  static final String CONFIG = "{\"fail_on\": \"warning\", \"thresholds\": {\"mean_shift_warn\": 0.3},"
      + " \"calibration\": {\"batch_size\": 16}, \"ignore\": [{\"code\": \"BN006\", \"layer\": \"a/[*]?**\","
      + " \"reason\": \"known\"}]}";
  static final String BASELINE = "{\"format\": \"bncheck-baseline\", \"version\": 1, \"findings\": ["
      + "{\"code\": \"BN003\", \"layer\": \"block1/bn\", \"severity\": \"error\"}]}";

  static String mutate(String text, int at, char c, int cut) {
    int i = at % text.length();
    String changed = text.substring(0, i) + c + text.substring(i + 1);
    return changed.substring(0, Math.min(changed.length(), cut));
  }

  @Property(tries = 400)
  void config(@ForAll @IntRange(min = 0, max = 500) int at, @ForAll @CharRange(from = ' ', to = '~') char c,
      @ForAll @IntRange(min = 0, max = 500) int cut) {
    try {
      ConfigFile config = ConfigFile.parse(Path.of("bncheck.json"),
          mutate(CONFIG, at, c, cut).getBytes(StandardCharsets.UTF_8));
      config.ignores().forEach(s -> s.matches(new dev.bncheck.analysis.Finding("BN006",
          dev.bncheck.analysis.Severity.WARNING, 0, "a/[x]y/z\u0000", "m", java.util.List.of(), "f")));
    } catch (InvalidInputException expected) {
      // The only acceptable failure.
    }
  }

  /** The report of a stale dump, which a mutated baseline is applied to. */
  private static final Report STALE = staleReport();

  private static Report staleReport() {
    CalibrationAccumulator data = new CalibrationAccumulator();
    BnModel model = new BnModelFromDump().load(Path.of("samples/stale.json"), data);
    return new Analyzer(Checks.ALL, Thresholds.DEFAULTS).analyze(model, data, Analyzer.DataAvailability.REQUESTED,
        new RunInfo("test", "check", "0", "embedded in model", null, FailOn.ERROR));
  }

  @Property(tries = 300)
  void baseline(@ForAll @IntRange(min = 0, max = 500) int at, @ForAll @CharRange(from = ' ', to = '~') char c,
      @ForAll @IntRange(min = 0, max = 500) int cut) {
    try {
      BaselineFile.parse(Path.of("baseline.json"), mutate(BASELINE, at, c, cut).getBytes(StandardCharsets.UTF_8))
          .apply(STALE, "in the baseline");
    } catch (InvalidInputException expected) {
      // The only acceptable failure.
    }
  }
}
