package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {

  @TempDir Path dir;

  private long filesIn(Path directory) throws IOException {
    try (var files = Files.list(directory)) {
      return files.count();
    }
  }

  @Test
  void replacesARegularFileAndLeavesNoTemporaryFile() throws IOException {
    Path target = Files.writeString(dir.resolve("report.txt"), "old");
    AtomicFile.write(target, out -> out.write("new"));
    assertThat(Files.readString(target)).isEqualTo("new");
    assertThat(filesIn(dir)).isEqualTo(1);
  }

  @Test
  void failedWriteKeepsTheOldContent() throws IOException {
    Path target = Files.writeString(dir.resolve("report.txt"), "old");
    assertThatThrownBy(() -> AtomicFile.write(target, out -> {
      out.write("half");
      throw new IOException("disk full");
    })).hasMessage("disk full");
    assertThat(Files.readString(target)).isEqualTo("old");
    assertThat(filesIn(dir)).isEqualTo(1);
  }

  @Test
  void followsASymbolicLinkAndKeepsIt() throws IOException {
    Path real = Files.writeString(dir.resolve("real.txt"), "old");
    Path link = Files.createSymbolicLink(dir.resolve("link.txt"), real.getFileName());
    AtomicFile.write(link, out -> out.write("new"));
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(real)).isEqualTo("new");
  }

  @Test
  void writesAPipeInPlaceInsteadOfReplacingIt() throws Exception {
    Path fifo = dir.resolve("pipe");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(mkfifo.exitValue()).isZero();
    CompletableFuture<String> reader = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(Files.readAllBytes(fifo), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
    AtomicFile.write(fifo, out -> out.write("through the pipe"));
    assertThat(reader.get(10, TimeUnit.SECONDS)).isEqualTo("through the pipe");
    assertThat(Files.isRegularFile(fifo)).isFalse();
    assertThat(Files.exists(fifo)).isTrue();
  }

  @Test
  void refusesADirectory() {
    assertThatThrownBy(() -> AtomicFile.write(dir, out -> out.write("x"))).hasMessage("is a directory");
  }
}
