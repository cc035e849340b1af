package dev.bncheck.cli;

import dev.bncheck.TestFiles;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every command refuses a model holding a link or special file, in one line and with exit 3. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ModelLinksCliTest {

  private static final String SECRET = "CI_TOKEN=do-not-leak";

  @TempDir Path dir;

  private Path model() throws IOException {
    Path from = Path.of("samples/keras-cnn-untrained");
    Path to = dir.resolve("model");
    TestFiles.copyTree(from, to);
    return to;
  }

  private List<Path> everythingIn(Path directory) throws IOException {
    try (Stream<Path> walk = Files.walk(directory)) {
      return walk.filter(p -> !p.equals(directory)).toList();
    }
  }

  @Test
  void recalibrateRefusesAnAssetLinkedToTheEnvironmentAndWritesNothing() throws IOException {
    Path model = model();
    Path environ = Files.writeString(dir.resolve("environ"), SECRET);
    Path vocab = Files.createDirectories(model.resolve("assets")).resolve("vocab.txt");
    Files.createSymbolicLink(vocab, environ);
    List<Path> before = everythingIn(dir);
    Path out = dir.resolve("fixed");
    CliRun run = CliRun.of("recalibrate", model.toString(), "--inputs", "samples/keras-cnn-inputs.npy",
        "--out", out.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).isEqualTo("bncheck: error: " + vocab + ": a symbolic link inside the model;"
        + " bncheck reads only regular files of a model (docs/security.md)\n");
    assertThat(everythingIn(dir)).containsExactlyInAnyOrderElementsOf(before);
    for (Path file : everythingIn(dir)) {
      if (Files.isRegularFile(file) && !file.equals(environ) && !file.equals(vocab)) {
        assertThat(Files.readString(file, StandardCharsets.ISO_8859_1)).doesNotContain(SECRET);
      }
    }
  }

  @Test
  void inspectAndCheckRefuseALinkToProcPagemapAtOnce() throws IOException {
    Path model = model();
    Path link = model.resolve("variables/variables.data-00001-of-00002");
    Files.createSymbolicLink(link, Path.of("/proc/self/pagemap"));
    String error = "bncheck: error: " + link + ": a symbolic link inside the model;"
        + " bncheck reads only regular files of a model (docs/security.md)\n";
    for (CliRun run : List.of(CliRun.of("inspect", model.toString()),
        CliRun.of("check", model.toString(), "--inputs", "samples/keras-cnn-inputs.npy"),
        CliRun.of("check", model.toString(), "--synthetic", "8"))) {
      assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.INVALID_INPUT);
      assertThat(run.err()).isEqualTo(error);
    }
  }

  @Test
  void aPipeInTheModelIsRefusedWithoutWaitingForAWriter() throws Exception {
    Path model = model();
    Path fifo = model.resolve("keras_metadata.pb");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS)).isTrue();
    CliRun run = CliRun.of("inspect", model.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).isEqualTo("bncheck: error: " + fifo + ": not a regular file (a pipe, socket or device)"
        + " inside the model; bncheck reads only regular files of a model (docs/security.md)\n");
  }
}
