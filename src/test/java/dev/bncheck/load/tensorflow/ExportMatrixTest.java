package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bncheck.cli.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The export matrix (scripts/make_export_matrix.py): each way of exporting a TensorFlow model
 * with BN, healthy and broken, gets the verdict its row of expected.tsv names. The calibration
 * data beside each model are the signature's inputs, one {@code NAME.npy} per input.
 */
class ExportMatrixTest {

  private static final Path DIR = Path.of("src/test/resources/export-matrix");
  private static final Path TABLE = DIR.resolve("expected.tsv");
  private static final String HEADER = "path\tvariant\tlayers\texit\tfindings\tself_check";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One row of expected.tsv: what bncheck must say about one model. */
  record Cell(String path, String variant, int layers, int exitCode, Set<String> errorCodes, String selfCheck) {
    Path dir() {
      return DIR.resolve(path).resolve(variant);
    }

    @Override
    public String toString() {
      return path + "/" + variant;
    }
  }

  static List<Cell> cells() throws IOException {
    List<String> lines = Files.readAllLines(TABLE);
    assertThat(lines.get(0)).as("header of " + TABLE).isEqualTo(HEADER);
    List<Cell> cells = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split("\t", -1);
      assertThat(f).as(line).hasSize(6);
      Set<String> codes = f[4].equals("-") ? Set.of() : new TreeSet<>(Arrays.asList(f[4].split(",")));
      cells.add(new Cell(f[0], f[1], Integer.parseInt(f[2]), Integer.parseInt(f[3]), codes, f[5]));
    }
    return cells;
  }

  /** The model of a cell: a SavedModel directory, or a frozen graph. */
  private static Path model(Cell cell) {
    Path frozen = cell.dir().resolve("model.pb");
    return Files.exists(frozen) ? frozen : cell.dir().resolve("model");
  }

  private static List<String> inputs(Cell cell) throws IOException {
    List<String> args = new ArrayList<>();
    try (Stream<Path> files = Files.list(cell.dir())) {
      for (Path npy : files.filter(p -> p.toString().endsWith(".npy")).sorted().toList()) {
        String name = npy.getFileName().toString();
        args.add("--inputs");
        args.add(name.substring(0, name.length() - ".npy".length()) + "=" + npy);
      }
    }
    assertThat(args).as("calibration data in " + cell.dir()).isNotEmpty();
    return args;
  }

  private static Set<String> errorCodes(JsonNode report) {
    Set<String> codes = new TreeSet<>();
    report.get("findings").forEach(f -> {
      if (f.get("severity").asText().equals("error")) {
        codes.add(f.get("code").asText());
      }
    });
    return codes;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cells")
  void checkGivesTheExpectedVerdict(Cell cell) throws IOException {
    assertThat(model(cell)).as("fixture; run scripts/make_export_matrix.py").exists();
    List<String> args = new ArrayList<>(List.of("check", model(cell).toString()));
    args.addAll(inputs(cell));
    args.addAll(List.of("--format", "json"));
    CliRun run = CliRun.of(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isEqualTo(cell.exitCode());
    JsonNode report = JSON.readTree(run.out());
    assertThat(report.get("layers")).as("layers").hasSize(cell.layers());
    assertThat(report.get("unresolved_layers")).as("unresolved layers").isEmpty();
    assertThat(errorCodes(report)).as("finding codes at error level").isEqualTo(cell.errorCodes());
    assertThat(cell.selfCheck()).as("self_check column").isEqualTo("passed");
    for (JsonNode layer : report.get("layers")) {
      JsonNode selfCheck = layer.path("calibration").path("self_check");
      assertThat(selfCheck.path("passed").asBoolean()).as("self-check of " + layer.get("name") + ": " + selfCheck)
          .isTrue();
    }
  }

  /** Without data the same layers, and of the findings only those that need none. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cells")
  void inspectFindsTheSameLayers(Cell cell) throws IOException {
    CliRun run = CliRun.of("inspect", model(cell).toString(), "--format", "json");
    JsonNode report = JSON.readTree(run.out());
    assertThat(report.get("layers")).as(run.err()).hasSize(cell.layers());
    Set<String> codes = errorCodes(report);
    assertThat(cell.errorCodes()).as("finding codes at error level").containsAll(codes);
    assertThat(run.exitCode()).as(run.err()).isEqualTo(codes.isEmpty() ? 0 : 1);
  }

  /**
   * JSON data is read as float32: an int32 input given fractions, or whole numbers beyond 2^24 that
   * float32 may have rounded, is refused in one line rather than fed truncated.
   */
  @Test
  void integerInputGivenOtherThanExactWholeNumbersIsRefusedInOneLine(@TempDir Path dir) throws IOException {
    Path model = DIR.resolve("several-inputs-tf1/healthy");
    for (var bad : List.of(List.of("0.5", "0.5, not a whole number"),
        List.of("16777218", "about 16777218, beyond 2^24, the largest integer float32 data holds exactly (give an .npy"
            + " of an integer dtype)"))) {
      Path mask = dir.resolve("mask.json");
      Files.writeString(mask, "{\"dtype\": \"float32\", \"shape\": [32, 8, 8], \"data\": ["
          + String.join(", ", java.util.Collections.nCopies(32 * 8 * 8, bad.get(0))) + "]}");
      CliRun run = CliRun.of("check", model.resolve("model").toString(), "--inputs",
          "x=" + model.resolve("x.npy"), "--inputs", "mask=" + mask);
      assertThat(run.exitCode()).as(run.err()).isEqualTo(3);
      assertThat(run.err().strip()).isEqualTo("bncheck: error: --inputs: mask: the model takes DT_INT32, but the data holds "
          + bad.get(1));
    }
  }

  /** A variant the generator writes but the table leaves out would go untested. */
  @Test
  void everyModelOfTheMatrixHasARow() throws IOException {
    Set<String> rows = new TreeSet<>(cells().stream().map(Cell::toString).toList());
    Set<String> dirs = new TreeSet<>();
    try (Stream<Path> paths = Files.list(DIR)) {
      for (Path path : paths.filter(Files::isDirectory).toList()) {
        try (Stream<Path> variants = Files.list(path)) {
          variants.filter(Files::isDirectory).forEach(v -> dirs.add(path.getFileName() + "/" + v.getFileName()));
        }
      }
    }
    assertThat(dirs).isEqualTo(rows);
  }
}
