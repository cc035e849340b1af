package dev.bncheck.samples.mistakes;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A block of a Markdown document between {@code <!-- NAME:start -->} and {@code <!-- NAME:end -->}
 * that a test renders from a run and checks: the README's and docs/'s tables of measured numbers.
 * With {@code -Dbncheck.regenerate=true} the test writes its rendering into the document before
 * comparing, so that the diff of the document shows what changed.
 */
final class GeneratedBlock {

  private GeneratedBlock() {}

  /** Whether a cell of the document's table may stand for the rendered cell, by row (from 0, header included). */
  @FunctionalInterface
  interface CellMatch {
    boolean matches(int row, String rendered, String documented);
  }

  static final CellMatch EXACT = (row, rendered, documented) -> rendered.equals(documented);

  /** The block's text, without the marker lines. */
  static String read(Path document, String name) {
    String text = readString(document);
    int from = start(text, document, name);
    int to = end(text, document, name, from);
    return to < from ? "" : text.substring(from, to);
  }

  /**
   * Asserts that the document's block is the rendered table, cell by cell: equal where
   * {@code cells} says so, and with the same rows and columns. Regenerates first when asked.
   */
  static void assertTable(Path document, String name, String rendered, CellMatch cells) {
    if (Boolean.getBoolean("bncheck.regenerate")) {
      write(document, name, rendered);
    }
    String block = read(document, name);
    List<String> want = List.of(rendered.split("\n"));
    List<String> got = List.of(block.split("\n"));
    assertThat(got).as(document + " " + name + " block, rows").hasSameSizeAs(want);
    for (int row = 0; row < want.size(); row++) {
      String[] wantCells = cells(want.get(row));
      String[] gotCells = cells(got.get(row));
      assertThat(gotCells).as(document + ": " + got.get(row)).hasSameSizeAs(wantCells);
      for (int c = 0; c < wantCells.length; c++) {
        assertThat(cells.matches(row, wantCells[c], gotCells[c]))
            .as("%s: %s%n  cell %d is %s, a run of this version gives %s", document, got.get(row), c, gotCells[c],
                wantCells[c])
            .isTrue();
      }
    }
  }

  /** Asserts that the document's block is exactly {@code rendered}. Regenerates first when asked. */
  static void assertExact(Path document, String name, String rendered) {
    if (Boolean.getBoolean("bncheck.regenerate")) {
      write(document, name, rendered);
    }
    assertThat(read(document, name)).as(document + " " + name + " block").isEqualTo(rendered);
  }

  /** A Markdown table: header, separator, rows. */
  static String table(List<String> header, List<List<String>> rows) {
    StringBuilder md = new StringBuilder(line(header)).append('\n')
        .append("|---".repeat(header.size())).append('|');
    rows.forEach(row -> md.append('\n').append(line(row)));
    return md.toString();
  }

  private static String line(List<String> cells) {
    StringBuilder line = new StringBuilder("|");
    cells.forEach(cell -> line.append(cell.isEmpty() ? " " : " " + cell + " ").append('|'));
    return line.toString();
  }

  private static String[] cells(String line) {
    return Arrays.stream(line.split("\\|", -1)).map(String::strip).toArray(String[]::new);
  }

  private static void write(Path document, String name, String block) {
    String text = readString(document);
    int from = start(text, document, name);
    int to = end(text, document, name, from);
    // An empty block's end marker follows its start marker's newline: the block brings its own.
    String rest = to < from ? "\n" + text.substring(from) : text.substring(to);
    try {
      Files.writeString(document, text.substring(0, from) + block + rest);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int start(String text, Path document, String name) {
    String marker = "<!-- " + name + ":start -->\n";
    int at = text.indexOf(marker);
    assertThat(at).as(document + " has " + marker.strip()).isNotNegative();
    return at + marker.length();
  }

  private static int end(String text, Path document, String name, int from) {
    String marker = "\n<!-- " + name + ":end -->";
    int at = text.indexOf(marker, from - 1);
    assertThat(at).as(document + " has " + marker.strip() + " after its start").isNotNegative();
    return at;
  }

  private static String readString(Path document) {
    try {
      return Files.readString(document);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
