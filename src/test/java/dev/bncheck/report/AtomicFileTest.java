package dev.bncheck.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
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

  @Test
  void newFileGetsTheModeTheUmaskGivesAnyNewFileNotAPrivateOne() throws IOException {
    Path probe = Files.createFile(dir.resolve("probe"));
    Path report = dir.resolve("report.txt");
    AtomicFile.write(report, out -> out.write("new"));
    assertThat(Files.getPosixFilePermissions(report)).isEqualTo(Files.getPosixFilePermissions(probe));
  }

  @Test
  void replacedFileKeepsItsModeAlsoThroughASymbolicLink() throws IOException {
    Path real = Files.writeString(dir.resolve("real.txt"), "old");
    Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rw-r-----"));
    Path link = Files.createSymbolicLink(dir.resolve("link.txt"), real.getFileName());
    AtomicFile.write(real, out -> out.write("new"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(real))).isEqualTo("rw-r-----");
    AtomicFile.write(link, out -> out.write("newer"));
    assertThat(Files.readString(real)).isEqualTo("newer");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(real))).isEqualTo("rw-r-----");
  }

  @Test
  void privateFileStaysPrivateWhileItIsWritten() throws IOException {
    Path target = Files.writeString(dir.resolve("report.txt"), "old");
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-------"));
    List<String> modesWhileWriting = new ArrayList<>();
    AtomicFile.write(target, out -> {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          modesWhileWriting.add(PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
        }
      }
      out.write("new");
    });
    assertThat(modesWhileWriting).hasSize(2).containsOnly("rw-------");
  }

  @Test
  void temporaryFileIsNamedForTheTargetAndThisProcess() throws IOException {
    Path target = dir.resolve("report.txt");
    List<String> names = new ArrayList<>();
    AtomicFile.write(target, out -> {
      try (var files = Files.list(dir)) {
        files.forEach(p -> names.add(p.getFileName().toString()));
      }
    });
    assertThat(names).singleElement().asString()
        .matches("\\.report\\.txt\\.bncheck-tmp-" + ProcessHandle.current().pid() + "-[0-9a-z]+");
  }

  @Test
  void writeRemovesLeftoversOfDeadRunsAndKeepsThoseOfLiveOnes() throws Exception {
    long dead = deadPid();
    Path deadFile = Files.writeString(dir.resolve(".report.txt.bncheck-tmp-" + dead + "-abc"), "half");
    Path deadDirectory = Files.createDirectories(dir.resolve(".report.txt.bncheck-tmp-" + dead + "-def/sub"));
    Path live = Files.writeString(dir.resolve(".report.txt.bncheck-tmp-1-abc"), "being written");
    Path otherTarget = Files.writeString(dir.resolve(".other.txt.bncheck-tmp-" + dead + "-abc"), "not ours");
    AtomicFile.write(dir.resolve("report.txt"), out -> out.write("new"));
    assertThat(deadFile).doesNotExist();
    assertThat(deadDirectory.getParent()).doesNotExist();
    assertThat(live).hasContent("being written");
    assertThat(otherTarget).exists();
  }

  /** The pid of a process that has ended. */
  static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(ProcessHandle.of(p.pid())).isEmpty();
    return p.pid();
  }
}
