package dev.bncheck;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The models and reference data written by other projects, kept unchanged under
 * {@code src/test/resources/fixtures} (its README.md gives each set's origin and licence).
 */
public final class ThirdPartyFixtures {

  public static final Path ROOT = Path.of("src/test/resources/fixtures");

  private ThirdPartyFixtures() {}

  /**
   * A fixture's path. A missing fixture fails the test that needs it: a test that skipped instead
   * would let a clone without the files pass while testing nothing.
   */
  public static Path require(String relative) {
    Path path = ROOT.resolve(relative);
    if (!Files.exists(path)) {
      throw new AssertionError("fixture missing: " + path + " (see " + ROOT.resolve("README.md") + ")");
    }
    return path;
  }
}
