package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution archive `mvn package` builds for this machine, unpacked into an empty folder and
 * run as a user without Maven runs it; and the Dockerfile's install step, which uses the same
 * archive.
 */
class DistributionIT {

  static final Path ROOT = LauncherIT.ROOT;
  static final String VERSION = System.getProperty("bncheck.version");
  static final String PLATFORM = System.getProperty("bncheck.platform");
  static final String TENSORFLOW_VERSION = System.getProperty("tensorflow.version");
  static final String ONNXRUNTIME_VERSION = System.getProperty("onnxruntime.version");
  static final Path ARCHIVE = ROOT.resolve("target/bncheck-" + VERSION + "-" + PLATFORM + ".tar.gz");

  @TempDir Path empty;
  @TempDir Path tools;

  private Path unpack() throws Exception {
    assertThat(ARCHIVE).as("built by mvn package").isRegularFile();
    LauncherIT.Result r = LauncherIT.runCommand(empty, List.of("tar", "-xzf", ARCHIVE.toString()));
    assertThat(r.exitCode()).as(r.err()).isZero();
    return empty.resolve("bncheck-" + VERSION);
  }

  /** Runs a command with a PATH whose mvn and mvnw leave a mark: the archive's launcher never builds. */
  private LauncherIT.Result runWithoutMaven(Path dir, String... command) throws Exception {
    for (String maven : List.of("mvn", "mvnw")) {
      Path fake = tools.resolve(maven);
      Files.writeString(fake, "#!/bin/sh\ntouch '" + tools.resolve("maven-was-called") + "'\nexit 99\n");
      fake.toFile().setExecutable(true);
    }
    List<String> withPath = Stream.concat(Stream.of("env", "PATH=" + tools + ":" + System.getenv("PATH")),
        Stream.of(command)).toList();
    return LauncherIT.runCommand(dir, withPath);
  }

  private static Set<String> tree(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.map(f -> dir.relativize(f).toString()).collect(Collectors.toSet());
    }
  }

  @Test
  void archiveHoldsTheLaunchersTheNoticesAndThisPlatformsNativesOnly() throws Exception {
    Path home = unpack();

    try (Stream<Path> top = Files.list(empty)) {
      assertThat(top).as("one top-level folder").containsExactly(home);
    }
    assertThat(home.resolve("bin/bncheck")).isExecutable();
    assertThat(home.resolve("bin/bncheck.cmd")).isRegularFile();
    assertThat(home.resolve("bin/stderr-filter.pl")).isRegularFile();
    assertThat(home.resolve("bin/compiler-directives.json")).isRegularFile();
    assertThat(home.resolve("README.md")).isRegularFile();
    assertThat(home.resolve("NOTICE")).hasSameTextualContentAs(ROOT.resolve("NOTICE"));
    assertThat(Files.exists(home.resolve("LICENSE"))).isEqualTo(Files.exists(ROOT.resolve("LICENSE")));
    assertThat(home.resolve("pom.xml")).doesNotExist();
    assertThat(home.resolve("src")).doesNotExist();

    Set<String> lib = tree(home.resolve("lib"));
    assertThat(lib).contains("bncheck-" + VERSION + ".jar",
        "tensorflow-core-native-" + TENSORFLOW_VERSION + ".jar",
        "tensorflow-core-native-" + TENSORFLOW_VERSION + "-" + PLATFORM + ".jar",
        "javacpp-1.5.11-" + PLATFORM + ".jar",
        "onnxruntime-" + ONNXRUNTIME_VERSION + "-" + PLATFORM + ".jar");
    assertThat(lib).as("ONNX Runtime's jar of every platform stays out").doesNotContain(
        "onnxruntime-" + ONNXRUNTIME_VERSION + ".jar");
    try (var jar = new java.util.zip.ZipFile(home.resolve("lib/onnxruntime-" + ONNXRUNTIME_VERSION + "-" + PLATFORM
        + ".jar").toFile())) {
      List<String> natives = jar.stream().map(java.util.zip.ZipEntry::getName)
          .filter(name -> name.startsWith("ai/onnxruntime/native/") && !name.endsWith("/")).toList();
      assertThat(natives).as("ONNX Runtime's natives of this platform, without debug symbols").isNotEmpty()
          .allMatch(name -> name.startsWith("ai/onnxruntime/native/" + ONNXRUNTIME_FOLDERS.get(PLATFORM) + "/"))
          .noneMatch(name -> name.contains(".dSYM/") || name.endsWith(".pdb"));
      assertThat(jar.getEntry("ai/onnxruntime/OrtSession.class")).isNotNull();
    }
    assertThat(lib).filteredOn(name -> name.matches(".*-(linux|macosx|windows)-.*"))
        .as("natives of this platform only").allMatch(name -> name.endsWith("-" + PLATFORM + ".jar"));
    assertThat(lib).as("no test-only dependency").noneMatch(name -> name.startsWith("nd4j") || name.startsWith("junit"));
  }

  @Test
  void unpackedArchiveRunsTheSampleFromAnEmptyFolderWithoutBuildingAnything() throws Exception {
    Path home = unpack();
    Set<String> before = tree(empty);

    LauncherIT.Result r = runWithoutMaven(home, "bin/bncheck", "check", "samples/stale.json");

    assertThat(r.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(r.out()).contains("[BN003] error block1/bn").contains("FAIL: 6 findings at or above --fail-on error");
    assertThat(r.err()).isEmpty();
    assertThat(tools.resolve("maven-was-called")).doesNotExist();
    assertThat(tree(empty)).as("nothing built or written in the installation").isEqualTo(before);
  }

  /** ONNX Runtime's name for each platform's folder of natives inside its jar. */
  static final java.util.Map<String, String> ONNXRUNTIME_FOLDERS = java.util.Map.of("linux-x86_64", "linux-x64",
      "linux-arm64", "linux-aarch64", "macosx-arm64", "osx-aarch64", "windows-x86_64", "win-x64");

  @Test
  void unpackedArchiveRunsAnOnnxModelWithTheNativesItShips() throws Exception {
    Path home = unpack();

    LauncherIT.Result r = runWithoutMaven(tools, home.resolve("bin/bncheck").toString(), "check",
        ROOT.resolve("src/test/resources/onnx/cnn-eval.onnx").toString(),
        "--inputs", ROOT.resolve("src/test/resources/onnx/calibration.npy").toString());

    assertThat(r.exitCode()).as(r.err()).isEqualTo(ExitCodes.PASS);
    assertThat(r.out()).contains("PASS: no findings");
  }

  @Test
  void unpackedArchiveRunsATensorFlowModelWithTheNativesItShips() throws Exception {
    Path home = unpack();

    LauncherIT.Result r = runWithoutMaven(tools, home.resolve("bin/bncheck").toString(), "check",
        home.resolve("samples/keras-cnn-trained").toString(),
        "--inputs", home.resolve("samples/keras-cnn-inputs.npy").toString());

    assertThat(r.exitCode()).as(r.err()).isEqualTo(ExitCodes.PASS);
    assertThat(r.out()).contains("PASS: no findings");
  }

  /**
   * The Dockerfile's build step, run here without a Docker engine: the tree it installs runs the
   * entry point from the image's working directory and is readable and runnable by the image's
   * non-root user.
   */
  @Test
  void dockerInstallStepMakesATreeTheNonRootEntryPointRuns() throws Exception {
    assumeThat(PLATFORM).as("the image is Linux; this machine builds a %s archive", PLATFORM).startsWith("linux-");
    String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
    String runtimeStage = dockerfile.substring(dockerfile.lastIndexOf("\nFROM "));
    assertThat(runtimeStage).startsWith("\nFROM eclipse-temurin:17-jre\n");
    assertThat(dockerfile).contains("docker/install-dist.sh /opt/bncheck")
        .contains("COPY --from=build /opt/bncheck /opt/bncheck");
    Matcher user = Pattern.compile("\nUSER (\\S+)\n").matcher(runtimeStage);
    assertThat(user.find()).as("a USER line").isTrue();
    assertThat(user.group(1)).isNotIn("root", "0");
    Matcher entryPoint = Pattern.compile("\nENTRYPOINT \\[\"/opt/bncheck/(\\S+)\"]\n").matcher(runtimeStage);
    assertThat(entryPoint.find()).as("an ENTRYPOINT in /opt/bncheck").isTrue();

    Path prefix = empty.resolve("opt/bncheck");
    LauncherIT.Result install = LauncherIT.runCommand(ROOT,
        List.of(ROOT.resolve("docker/install-dist.sh").toString(), prefix.toString()));
    assertThat(install.exitCode()).as(install.err()).isZero();
    assertThat(install.out()).isEqualTo("bncheck " + VERSION + "\n");

    try (Stream<Path> files = Files.walk(prefix)) {
      for (Path f : files.toList()) {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(f);
        assertThat(mode).as(f.toString()).contains(PosixFilePermission.OTHERS_READ);
        if (Files.isDirectory(f)) {
          assertThat(mode).as(f.toString()).contains(PosixFilePermission.OTHERS_EXECUTE);
        }
      }
    }
    assertThat(Files.getPosixFilePermissions(prefix.resolve(entryPoint.group(1))))
        .contains(PosixFilePermission.OTHERS_EXECUTE);
    assertThat(prefix.resolve("bin/bncheck.cmd")).doesNotExist();

    Matcher javaOptions = Pattern.compile("\nENV BNCHECK_JAVA_OPTS=\"([^\"]*)\"\n").matcher(runtimeStage);
    assertThat(javaOptions.find()).as("the image's JVM options").isTrue();
    Path workdir = Files.createDirectories(empty.resolve("work"));
    LauncherIT.Result r = LauncherIT.runCommand(workdir, List.of("env", "BNCHECK_JAVA_OPTS=" + javaOptions.group(1),
        prefix.resolve(entryPoint.group(1)).toString(), "check", ROOT.resolve("samples/stale.json").toString()));
    assertThat(r.exitCode()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(r.err()).isEmpty();
  }
}
