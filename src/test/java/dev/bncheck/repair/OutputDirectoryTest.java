package dev.bncheck.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputDirectoryTest {

  @TempDir Path dir;

  private static void writeModel(Path directory) {
    try {
      Files.writeString(directory.resolve("saved_model.pb"), "new");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private List<String> namesIn(Path directory) throws IOException {
    try (var files = Files.list(directory)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void newDirectoryGetsTheModeTheUmaskGivesAnyNewDirectoryNotAPrivateOne() throws IOException {
    Path probe = Files.createDirectory(dir.resolve("probe"));
    Path out = dir.resolve("fixed");
    OutputDirectory.write(out, false, OutputDirectoryTest::writeModel);
    assertThat(Files.getPosixFilePermissions(out)).isEqualTo(Files.getPosixFilePermissions(probe));
    assertThat(out.resolve("saved_model.pb")).hasContent("new");
  }

  @Test
  void replacedDirectoryKeepsItsMode() throws IOException {
    Path out = Files.createDirectory(dir.resolve("fixed"));
    Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwxr-x---"));
    OutputDirectory.write(out, true, OutputDirectoryTest::writeModel);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out))).isEqualTo("rwxr-x---");
    assertThat(namesIn(dir)).containsExactly("fixed");
  }

  @Test
  void writeRemovesLeftoversOfDeadRunsAndKeepsThoseOfLiveOnes() throws Exception {
    Process ended = new ProcessBuilder("true").start();
    assertThat(ended.waitFor(10, TimeUnit.SECONDS)).isTrue();
    long dead = ended.pid();
    Files.createDirectories(dir.resolve(".fixed.bncheck-tmp-" + dead + "-abc/variables"));
    Files.createDirectories(dir.resolve(".fixed.bncheck-tmp-1-abc"));
    OutputDirectory.write(dir.resolve("fixed"), false, OutputDirectoryTest::writeModel);
    assertThat(namesIn(dir)).containsExactly(".fixed.bncheck-tmp-1-abc", "fixed");
  }

  @Test
  void oldContentOfADeadRunIsRemovedOnlyOnceTheTargetIsWholeAgain() throws Exception {
    Process ended = new ProcessBuilder("true").start();
    assertThat(ended.waitFor(10, TimeUnit.SECONDS)).isTrue();
    Path old = Files.createDirectories(dir.resolve(".fixed.bncheck-old-" + ended.pid() + "-abc"));
    Path other = dir.resolve("other");
    OutputDirectory.write(other, false, OutputDirectoryTest::writeModel);
    assertThat(old).exists();
    assertThatThrownBy(() -> OutputDirectory.write(dir.resolve("fixed"), false, d -> {
      throw new IllegalStateException("killed");
    })).hasMessage("killed");
    // The run that died between its two renames left the only copy of the old model.
    assertThat(old).exists();
    OutputDirectory.write(dir.resolve("fixed"), false, OutputDirectoryTest::writeModel);
    OutputDirectory.write(dir.resolve("fixed"), true, OutputDirectoryTest::writeModel);
    assertThat(namesIn(dir)).containsExactly("fixed", "other");
  }

  @Test
  void aLinkNamedLikeALeftoverIsRemovedNotFollowed() throws Exception {
    Process ended = new ProcessBuilder("true").start();
    assertThat(ended.waitFor(10, TimeUnit.SECONDS)).isTrue();
    Path precious = Files.createDirectories(dir.resolve("precious"));
    Files.writeString(precious.resolve("keep.txt"), "keep");
    Files.createSymbolicLink(dir.resolve(".fixed.bncheck-tmp-" + ended.pid() + "-abc"), precious);
    OutputDirectory.write(dir.resolve("fixed"), false, OutputDirectoryTest::writeModel);
    assertThat(precious.resolve("keep.txt")).hasContent("keep");
    assertThat(namesIn(dir)).containsExactly("fixed", "precious");
  }
}
