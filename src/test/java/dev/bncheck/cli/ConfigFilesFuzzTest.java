package dev.bncheck.cli;

import dev.bncheck.load.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.IntRange;

/** Mutated config and baseline files give settings or a clean input error, never anything else. */
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
      @ForAll @IntRange(min = 0, max = 500) int cut) throws IOException {
    Path file = Files.createTempFile("bncheck", ".json");
    try {
      Files.writeString(file, mutate(CONFIG, at, c, cut));
      ConfigFile config = ConfigFile.read(file);
      config.ignores().forEach(s -> s.matches(new dev.bncheck.analysis.Finding("BN006",
          dev.bncheck.analysis.Severity.WARNING, 0, "a/[x]y/z\u0000", "m", java.util.List.of(), "f")));
    } catch (InvalidInputException expected) {
      // The only acceptable failure.
    } finally {
      Files.delete(file);
    }
  }

  @Property(tries = 300)
  void baseline(@ForAll @IntRange(min = 0, max = 500) int at, @ForAll @CharRange(from = ' ', to = '~') char c,
      @ForAll @IntRange(min = 0, max = 500) int cut) throws IOException {
    Path dir = Files.createTempDirectory("bncheck");
    Path file = dir.resolve("baseline.json");
    try {
      Files.writeString(file, mutate(BASELINE, at, c, cut));
      CliRun run = CliRun.of("check", "samples/stale.json", "--baseline", file.toString());
      if (run.exitCode() == ExitCodes.INTERNAL_ERROR || run.err().contains("\tat ")) {
        throw new AssertionError("baseline " + Files.readString(file) + " gave " + run.err());
      }
    } finally {
      Files.deleteIfExists(file);
      Files.delete(dir);
    }
  }
}
