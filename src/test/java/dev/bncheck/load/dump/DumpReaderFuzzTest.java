package dev.bncheck.load.dump;

import dev.bncheck.DumpBuilder;
import dev.bncheck.engine.CalibrationAccumulator;
import dev.bncheck.load.FuzzedFiles;
import java.io.IOException;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.IntRange;

/** Mutated dumps load or fail with a clean input error, never anything else. */
class DumpReaderFuzzTest {

  static final String VALID = new DumpBuilder().source("framework", "pytorch")
      .layer("a").momentum(0.1, "pytorch").gamma(1, 2).beta(0, 1).movingMean(0.5f, 1).movingVariance(2, 3)
      .input(new int[] {2, 2}, new float[] {1, 2, 3, 4}).up()
      .layer("b").channelAxis(-1).movingMean(0).movingVariance(1).up()
      .toJson();

  private static void loadExpectingNothingButAnInputError(String json) throws IOException {
    FuzzedFiles.readExpectingNothingButAnInputError(json.getBytes(java.nio.charset.StandardCharsets.UTF_8), ".json",
        file -> new BnModelFromDump().load(file, new CalibrationAccumulator()));
  }

  @Property(tries = 300)
  void truncatedDumps(@ForAll @IntRange(min = 0, max = 2000) int cut) throws IOException {
    loadExpectingNothingButAnInputError(VALID.substring(0, Math.min(cut, VALID.length())));
  }

  @Property(tries = 500)
  void dumpsWithOneCharacterReplaced(@ForAll @IntRange(min = 0, max = 2000) int at,
      @ForAll @CharRange(from = ' ', to = '~') char c) throws IOException {
    int i = at % VALID.length();
    loadExpectingNothingButAnInputError(VALID.substring(0, i) + c + VALID.substring(i + 1));
  }

  @Property(tries = 300)
  void dumpsWithATokenInserted(@ForAll @IntRange(min = 0, max = 2000) int at,
      @ForAll("tokens") String token) throws IOException {
    int i = at % VALID.length();
    loadExpectingNothingButAnInputError(VALID.substring(0, i) + token + VALID.substring(i));
  }

  @net.jqwik.api.Provide
  net.jqwik.api.Arbitrary<String> tokens() {
    return net.jqwik.api.Arbitraries.of("[", "]", "{", "}", ",", ":", "\"", "-1", "1e999", "null", "true",
        "NaN", "\"shape\":[99999999]", "[[[[", "\"x\":1,", "99999999999999999999");
  }
}
