package dev.bncheck.samples.mistakes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The rows of a generator's table in {@code samples/tf-bn-mistakes/<folder>/README.md}, cell by cell. */
final class MeasuredTable {

  private MeasuredTable() {}

  /** Every table line, header and separator included. */
  static List<String> lines(Path readme) {
    try {
      return Files.readAllLines(readme).stream().filter(line -> line.startsWith("|")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The data rows' cells, without the backticks around the variant's name. */
  static List<String[]> rows(Path readme) {
    return lines(readme).stream().skip(2)
        .map(line -> line.substring(2, line.length() - 2).split(" \\| "))
        .map(cells -> {
          cells[0] = cells[0].replace("`", "");
          return cells;
        })
        .toList();
  }

  static String[] row(Path readme, String variant) {
    return rows(readme).stream().filter(cells -> cells[0].equals(variant)).findFirst()
        .orElseThrow(() -> new AssertionError(readme + " has no row for " + variant));
  }
}
