package dev.bncheck.analysis;

import java.util.List;
import java.util.Objects;

/**
 * One named number (or list of numbers, or word) that proves a finding.
 *
 * @param value a {@link Double}, {@link Long}, {@link Integer}, {@link String}, or a list of
 *     those
 */
public record Evidence(String name, Object value) {

  public Evidence {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    if (!(value instanceof Number || value instanceof String || value instanceof List<?>)) {
      throw new IllegalArgumentException("evidence " + name + " has unsupported type " + value.getClass());
    }
  }
}
