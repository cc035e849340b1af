package dev.bncheck.load.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX Runtime's libraries come from bncheck's cache folder, copied once: a run leaves nothing in
 * the temporary directory (ONNX Runtime on its own left an empty {@code onnxruntime-java*} folder
 * per run).
 */
class OrtNativesTest {

  private static final String LIBRARY = System.mapLibraryName("onnxruntime");
  private static final String JNI = System.mapLibraryName("onnxruntime4j_jni");

  @TempDir Path dir;

  private static String resources() {
    return "ai/onnxruntime/native/" + OrtNatives.platform().orElseThrow() + "/";
  }

  private static long resourceSize(String library) throws IOException {
    return OrtNatives.class.getClassLoader().getResource(resources() + library).openConnection().getContentLengthLong();
  }

  @Test
  void copiesBothLibrariesOnceAndReplacesATruncatedCopy() throws IOException {
    Path folder = dir.resolve("cache/onnxruntime/v-platform");
    assertThat(OrtNatives.extract(resources(), folder)).isTrue();
    assertThat(Files.size(folder.resolve(LIBRARY))).isEqualTo(resourceSize(LIBRARY)).isGreaterThan(1_000_000);
    assertThat(Files.size(folder.resolve(JNI))).isEqualTo(resourceSize(JNI));

    FileTime old = FileTime.fromMillis(1_000_000_000_000L);
    Files.setLastModifiedTime(folder.resolve(LIBRARY), old);
    assertThat(OrtNatives.extract(resources(), folder)).isTrue();
    assertThat(Files.getLastModifiedTime(folder.resolve(LIBRARY))).as("a whole copy is kept").isEqualTo(old);

    Files.write(folder.resolve(JNI), new byte[10]);
    assertThat(OrtNatives.extract(resources(), folder)).isTrue();
    assertThat(Files.size(folder.resolve(JNI))).isEqualTo(resourceSize(JNI));
    try (Stream<Path> files = Files.list(folder)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(LIBRARY, JNI);
    }
  }

  @Test
  void aFolderThatCannotBeWrittenLeavesOnnxRuntimeToItself() throws IOException {
    Path file = Files.writeString(dir.resolve("not-a-folder"), "x");
    assertThat(OrtNatives.extract(resources(), file.resolve("onnxruntime"))).isFalse();
    assertThat(OrtNatives.extract("no/such/resources/", dir.resolve("empty"))).isFalse();
  }

  @Test
  void anOnnxRunLeavesNothingInTheTemporaryDirectory() throws IOException, InterruptedException {
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    Path cache = dir.resolve("cache");
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"), "dev.bncheck.cli.Main", "check",
        "src/test/resources/onnx/cnn-eval.onnx", "--inputs", "src/test/resources/onnx/calibration.npy"));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("out.txt").toFile());
    builder.environment().put(OrtNatives.CACHE_ENVIRONMENT, cache.toString());
    Process process = builder.start();
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(Files.readString(dir.resolve("out.txt"))).isZero();
    try (Stream<Path> left = Files.list(tmp)) {
      assertThat(left).as("left in java.io.tmpdir").isEmpty();
    }
    try (Stream<Path> cached = Files.walk(cache)) {
      assertThat(cached.map(p -> p.getFileName().toString())).contains(LIBRARY, JNI);
    }
  }
}
