package dev.bncheck.analysis;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.Objects;

/**
 * A finding the team has decided not to fail on, with the reason: from the config file's ignore
 * list, or from a baseline of findings accepted earlier.
 *
 * @param code the finding code, or {@code *} for any
 * @param layer a glob over layer names ({@code *} within one path segment, {@code **} across)
 * @param reason why; required, and shown in every report
 */
public record Suppression(String code, String layer, String reason) {

  public Suppression {
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(layer, "layer");
    if (reason == null || reason.isBlank()) {
      throw new IllegalArgumentException("an ignore needs a reason");
    }
  }

  public boolean matches(Finding finding) {
    if (!code.equals("*") && !code.equals(finding.code())) {
      return false;
    }
    PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + layer);
    return layer.equals("**") || matcher.matches(Path.of(finding.layer()));
  }
}
