package dev.bncheck.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Hashing reads only regular files inside a model, and only as many bytes as they hold. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Sha256Test {

  private static final Path PAGEMAP = Path.of("/proc/self/pagemap");

  @TempDir Path dir;

  private Path model() throws IOException {
    Path model = Files.createDirectories(dir.resolve("model/variables"));
    Files.writeString(model.resolve("variables.index"), "index");
    Files.writeString(dir.resolve("model/saved_model.pb"), "graph");
    return dir.resolve("model");
  }

  private static void mkfifo(Path path) throws Exception {
    Process mkfifo = new ProcessBuilder("mkfifo", path.toString()).start();
    assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(mkfifo.exitValue()).isZero();
  }

  @Test
  void aModelHashesTheSameWhereverItLiesAndWhenReachedThroughALink() throws IOException {
    Path model = model();
    String hash = Sha256.of(model);
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere/variables")).getParent();
    Files.copy(model.resolve("saved_model.pb"), elsewhere.resolve("saved_model.pb"));
    Files.copy(model.resolve("variables/variables.index"), elsewhere.resolve("variables/variables.index"));
    assertThat(Sha256.of(elsewhere)).isEqualTo(hash);
    assertThat(Sha256.of(Files.createSymbolicLink(dir.resolve("current"), model))).isEqualTo(hash);
  }

  @Test
  void aLinkToProcPagemapInsideTheModelIsRefusedAtOnce() throws IOException {
    Path model = model();
    Files.createSymbolicLink(model.resolve("variables/variables.data-00000-of-00001"), PAGEMAP);
    assertThatThrownBy(() -> Sha256.of(model)).isInstanceOf(InvalidInputException.class)
        .hasMessage(model.resolve("variables/variables.data-00000-of-00001") + ": a symbolic link inside the model;"
            + " bncheck reads only regular files of a model (docs/security.md)");
  }

  @Test
  void aLinkToADirectoryOutsideTheModelIsRefused() throws IOException {
    Path model = model();
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Files.writeString(outside.resolve("secret.txt"), "secret");
    Files.createSymbolicLink(model.resolve("assets"), outside);
    assertThatThrownBy(() -> Sha256.of(model)).isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(model.resolve("assets") + ": a symbolic link inside the model");
  }

  @Test
  void aPipeInsideTheModelIsRefusedWithoutWaitingForAWriter() throws Exception {
    Path model = model();
    mkfifo(model.resolve("variables/variables.data-00000-of-00001"));
    assertThatThrownBy(() -> Sha256.of(model)).isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith(model.resolve("variables/variables.data-00000-of-00001")
            + ": not a regular file (a pipe, socket or device) inside the model");
  }

  @Test
  void aFileNamedDirectlyMayBeALinkButNotToAProcFileOrAPipe() throws Exception {
    Path data = Files.writeString(dir.resolve("data.json"), "{}");
    assertThat(Sha256.of(Files.createSymbolicLink(dir.resolve("link.json"), data))).isEqualTo(Sha256.of(data));
    Path proc = Files.createSymbolicLink(dir.resolve("inputs.npy"), PAGEMAP);
    assertThat(Files.isRegularFile(proc)).as("procfs files look regular").isTrue();
    assertThatThrownBy(() -> Sha256.of(proc)).isInstanceOf(InvalidInputException.class)
        .hasMessage(proc + ": holds more bytes than its size of 0 (a /proc or /sys file, or one being written)");
    Path fifo = dir.resolve("pipe.npy");
    mkfifo(fifo);
    assertThatThrownBy(() -> Sha256.of(fifo)).isInstanceOf(InvalidInputException.class)
        .hasMessage(fifo + ": not a regular file (a pipe, socket or device); bncheck reads only regular files");
  }
}
