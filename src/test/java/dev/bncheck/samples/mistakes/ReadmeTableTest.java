package dev.bncheck.samples.mistakes;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The README's table of the TF1 mistakes is the one the generator wrote from its real run. */
class ReadmeTableTest {

  @Test
  void readmeTableIsTheGeneratorsTable() throws IOException {
    String generated = Files.readAllLines(Path.of("samples/tf-bn-mistakes/tf1-data/README.md")).stream()
        .filter(line -> line.startsWith("|")).collect(Collectors.joining("\n"));
    String readme = Files.readString(Path.of("README.md"));
    String block = readme.substring(readme.indexOf("<!-- tf1-mistakes:start -->\n") + 28,
        readme.indexOf("\n<!-- tf1-mistakes:end -->"));
    assertThat(block).isEqualTo(generated);
  }
}
