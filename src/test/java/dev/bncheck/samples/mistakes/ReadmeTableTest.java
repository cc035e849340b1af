package dev.bncheck.samples.mistakes;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The README's tables of the mistakes are the ones the generators wrote from their real runs. */
class ReadmeTableTest {

  @ParameterizedTest
  @CsvSource({"tf1-mistakes, tf1-data", "keras-mistakes, keras-data"})
  void readmeTableIsTheGeneratorsTable(String marker, String folder) throws IOException {
    String generated = Files.readAllLines(Path.of("samples/tf-bn-mistakes", folder, "README.md")).stream()
        .filter(line -> line.startsWith("|")).collect(Collectors.joining("\n"));
    String readme = Files.readString(Path.of("README.md"));
    String start = "<!-- " + marker + ":start -->\n";
    String block = readme.substring(readme.indexOf(start) + start.length(),
        readme.indexOf("\n<!-- " + marker + ":end -->"));
    assertThat(block).isEqualTo(generated);
  }
}
