package dev.bncheck.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launchers' own logic, with a stand-in for java that prints the command line it gets: the
 * archive shape of bin/bncheck (the checkout shape runs for real in LauncherIT), and the rules
 * bin/bncheck.cmd must keep, since no Windows is at hand to run it.
 */
class LauncherScriptsIT {

  static final Path ROOT = LauncherIT.ROOT;

  /** The JVM options the launcher gives when BNCHECK_JAVA_OPTS is not set, one per line. */
  static final String DEFAULT_JAVA_OPTIONS = "-Xmx2g\n-XX:+UseSerialGC\n-Xmn32m\n";

  @TempDir Path tmp;
  Path home;
  Path jdk;

  /** An unpacked archive with an empty lib/, and a JDK whose java echoes its arguments. */
  @BeforeEach
  void install() throws Exception {
    home = Files.createDirectories(tmp.resolve("bncheck")).toRealPath();
    Files.createDirectories(home.resolve("bin"));
    Files.createDirectories(home.resolve("lib"));
    for (String file : List.of("bncheck", "stderr-filter.pl", "compiler-directives.json")) {
      Files.copy(ROOT.resolve("bin").resolve(file), home.resolve("bin").resolve(file));
    }
    jdk = Files.createDirectories(tmp.resolve("jdk/bin")).getParent();
    Path java = jdk.resolve("bin/java");
    Files.writeString(java, """
        #!/bin/sh
        for a in "$@"; do printf '%s\\n' "$a"; done
        echo "TF_ENABLE_ONEDNN_OPTS=$TF_ENABLE_ONEDNN_OPTS"
        echo "TF_CPP_MIN_LOG_LEVEL=$TF_CPP_MIN_LOG_LEVEL"
        echo "java's stderr" >&2
        [ -n "$FAKE_JVM_REFUSES" ] && echo "Error: Could not create the Java Virtual Machine." >&2
        exit "${FAKE_JAVA_EXIT:-0}"
        """);
    assertThat(java.toFile().setExecutable(true)).isTrue();
  }

  private LauncherIT.Result run(Path dir, Map<String, String> env, String... command) throws Exception {
    Path out = tmp.resolve("out.txt");
    Path err = tmp.resolve("err.txt");
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().remove("BNCHECK_JAVA_OPTS");
    pb.environment().remove("TF_CPP_MIN_LOG_LEVEL");
    pb.environment().remove("TF_ENABLE_ONEDNN_OPTS");
    pb.environment().put("JAVA_HOME", jdk.toString());
    pb.environment().putAll(env);
    Process p = pb.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("finished in time").isTrue();
    return new LauncherIT.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void archiveShapeRunsLibOnTheClasspathThroughALinkFromAnyDirectory() throws Exception {
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
    Path link = Files.createSymbolicLink(elsewhere.resolve("bncheck"), home.resolve("bin/bncheck"));

    LauncherIT.Result r = run(elsewhere, Map.of(), link.toString(), "check", "my model.json");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).isEqualTo(String.join("\n", "-Xmx2g", "-XX:+UseSerialGC", "-Xmn32m", "-cp", home + "/lib/*", "dev.bncheck.cli.Main",
        "check", "my model.json", "TF_ENABLE_ONEDNN_OPTS=1", "TF_CPP_MIN_LOG_LEVEL=2", ""));
    // through the stderr filter, which indents what bncheck did not write
    assertThat(r.err()).isEqualTo("  java's stderr\n");
  }

  @Test
  void javaOptionsAreSplitAtSpacesAndAGivenTensorFlowLogLevelIsKept() throws Exception {
    LauncherIT.Result r = run(tmp, Map.of("BNCHECK_JAVA_OPTS", "-Xmx16m -Dbncheck.x=1", "TF_CPP_MIN_LOG_LEVEL", "0"),
        home.resolve("bin/bncheck").toString(), "inspect", "x.json");

    assertThat(r.out()).startsWith("-XX:TieredStopAtLevel=1\n-Xmx16m\n-Dbncheck.x=1\n-cp\n")
        .endsWith("TF_CPP_MIN_LOG_LEVEL=0\n");
  }

  /** inspect runs no kernel and starts faster without C2; check and recalibrate need it. */
  @Test
  void onlyInspectRunsWithTheFirstTierCompilerAlone() throws Exception {
    String launcher = home.resolve("bin/bncheck").toString();

    assertThat(run(tmp, Map.of(), launcher, "--config", "inspect", "inspect", "m.json").out())
        .startsWith("-XX:TieredStopAtLevel=1\n" + DEFAULT_JAVA_OPTIONS);
    assertThat(run(tmp, Map.of(), launcher, "check", "inspect").out()).startsWith(DEFAULT_JAVA_OPTIONS)
        .doesNotContain("TieredStopAtLevel");
    assertThat(run(tmp, Map.of(), launcher, "--config", "c.json", "recalibrate", "m").out())
        .doesNotContain("TieredStopAtLevel");
  }

  /**
   * The Vector API module costs start-up that only large activations pay back: added for the
   * models bncheck runs and for large files, not for a small dump.
   */
  @Test
  void theVectorApiModuleIsAddedForRunModelsAndLargeFilesOnly() throws Exception {
    String launcher = home.resolve("bin/bncheck").toString();
    Path savedModel = Files.createDirectories(tmp.resolve("saved model"));
    Path large = tmp.resolve("large.json");
    try (var file = new java.io.RandomAccessFile(large.toFile(), "rw")) {
      file.setLength(32L << 20);
    }
    Path small = Files.writeString(tmp.resolve("small.json"), "{}");
    String module = "--add-modules=jdk.incubator.vector\n" + DEFAULT_JAVA_OPTIONS;

    assertThat(run(tmp, Map.of(), launcher, "check", savedModel.toString()).out()).startsWith(module);
    assertThat(run(tmp, Map.of(), launcher, "recalibrate", "m.onnx", "--out", "f.onnx").out()).startsWith(module);
    assertThat(run(tmp, Map.of(), launcher, "check", "frozen.pb").out()).contains(module);
    assertThat(run(tmp, Map.of(), launcher, "check", large.toString()).out()).startsWith(module);
    assertThat(run(tmp, Map.of(), launcher, "check", small.toString()).out()).startsWith(DEFAULT_JAVA_OPTIONS);
    assertThat(run(tmp, Map.of(), launcher, "inspect", savedModel.toString()).out()).doesNotContain("add-modules");
  }

  /**
   * A TensorFlow model's run keeps the optimizing compiler to the loops over data; other runs,
   * whose Java is the hot path (dumps, ONNX Runtime's activations), keep it everywhere.
   */
  @Test
  void compilerDirectivesAreGivenForTensorFlowModelsOnly() throws Exception {
    String launcher = home.resolve("bin/bncheck").toString();
    Path savedModel = Files.createDirectories(tmp.resolve("saved model"));
    Files.writeString(savedModel.resolve("saved_model.pb"), "");
    Path otherFolder = Files.createDirectories(tmp.resolve("out"));
    String directives = "-XX:+UnlockDiagnosticVMOptions\n-XX:CompilerDirectivesFile=" + home
        + "/bin/compiler-directives.json\n-XX:+DisplayVMOutputToStderr\n";

    assertThat(run(tmp, Map.of(), launcher, "check", savedModel.toString()).out())
        .startsWith(directives + "--add-modules=jdk.incubator.vector\n" + DEFAULT_JAVA_OPTIONS);
    assertThat(run(tmp, Map.of(), launcher, "recalibrate", "frozen.pb", "--out", otherFolder.toString()).out())
        .startsWith(directives);
    assertThat(run(tmp, Map.of(), launcher, "check", "m.onnx").out()).doesNotContain("CompilerDirectivesFile");
    assertThat(run(tmp, Map.of(), launcher, "check", otherFolder.toString()).out())
        .doesNotContain("CompilerDirectivesFile");
    assertThat(run(tmp, Map.of(), launcher, "check", "dump.json").out()).doesNotContain("CompilerDirectivesFile");
    assertThat(run(tmp, Map.of(), launcher, "inspect", savedModel.toString()).out())
        .doesNotContain("CompilerDirectivesFile");
  }

  /** The JVM refuses to start on a directives file it cannot parse; this one it takes. */
  @Test
  void theCompilerDirectivesFileIsOneTheJvmTakes() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p = new ProcessBuilder(java.toString(), "-XX:+UnlockDiagnosticVMOptions",
        "-XX:CompilerDirectivesFile=" + ROOT.resolve("bin/compiler-directives.json"), "-version")
        .redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();

    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).doesNotContain("rror");
  }

  @Test
  void javasExitCodeIsTheLaunchersWithTheStderrFilter() throws Exception {
    LauncherIT.Result r = run(tmp, Map.of("FAKE_JAVA_EXIT", "3"), home.resolve("bin/bncheck").toString(), "check");
    assertThat(r.exitCode()).isEqualTo(3);
  }

  /**
   * A JVM that cannot start exits with 1, bncheck's code for findings: the launcher makes it an
   * internal error (4), with a line saying what to check (outside tester's find: a damaged
   * bin/compiler-directives.json stopped every TensorFlow run with 1).
   */
  @Test
  void aJvmThatCannotStartEndsTheRunWithFourNotOne() throws Exception {
    String launcher = home.resolve("bin/bncheck").toString();

    LauncherIT.Result refused = run(tmp, Map.of("FAKE_JAVA_EXIT", "1", "FAKE_JVM_REFUSES", "1"), launcher, "check");
    assertThat(refused.exitCode()).isEqualTo(4);
    assertThat(refused.err()).isEqualTo("  java's stderr\n  Error: Could not create the Java Virtual Machine.\n"
        + "bncheck: the Java VM did not start (its message is above): check BNCHECK_JAVA_OPTS, and the Java found"
        + " through JAVA_HOME or the PATH\n");

    assertThat(run(tmp, Map.of("FAKE_JAVA_EXIT", "1"), launcher, "check").exitCode()).as("findings").isEqualTo(1);
    assertThat(run(tmp, Map.of("FAKE_JAVA_EXIT", "3", "FAKE_JVM_REFUSES", "1"), launcher, "check").exitCode())
        .isEqualTo(3);
  }

  /** Minimal images may lack perl: the launcher then runs java directly, start-up lines and all. */
  @Test
  void withoutPerlTheLauncherStillRunsAndKeepsJavasExitCode() throws Exception {
    Path path = Files.createDirectories(tmp.resolve("path"));
    for (String tool : List.of("bash", "dirname", "readlink")) {
      Path found = List.of(Path.of("/usr/bin", tool), Path.of("/bin", tool)).stream().filter(Files::isExecutable)
          .findFirst().orElseThrow();
      Files.createSymbolicLink(path.resolve(tool), found);
    }

    LauncherIT.Result r;
    try {
      r = run(tmp, Map.of("PATH", path.toString(), "FAKE_JAVA_EXIT", "1"), home.resolve("bin/bncheck").toString(),
          "check", "x.json");
    } finally {
      // before @TempDir cleans up, which warns about links leading out of it
      for (String tool : List.of("bash", "dirname", "readlink")) {
        Files.deleteIfExists(path.resolve(tool));
      }
    }

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).startsWith(DEFAULT_JAVA_OPTIONS + "-cp\n" + home + "/lib/*\ndev.bncheck.cli.Main\ncheck\nx.json\n");
    assertThat(r.err()).isEqualTo("java's stderr\n");
  }

  /** A checkout whose jar is built: the launcher adds the class-data sharing archive if it is not older than the jar. */
  @Test
  void checkoutShapeUsesTheClassDataSharingArchiveRecordedAfterTheJar() throws Exception {
    Files.delete(home.resolve("lib"));
    Path pom = Files.writeString(home.resolve("pom.xml"), "<project/>");
    Path jar = Files.writeString(Files.createDirectories(home.resolve("target")).resolve("bncheck.jar"), "");
    Path archive = Files.writeString(home.resolve("target/bncheck.jsa"), "");
    FileTime built = FileTime.from(Instant.now().minusSeconds(60));
    Files.setLastModifiedTime(pom, FileTime.from(Instant.now().minusSeconds(120)));
    Files.setLastModifiedTime(jar, built);
    Files.setLastModifiedTime(archive, built);

    LauncherIT.Result r = run(tmp, Map.of(), home.resolve("bin/bncheck").toString(), "--version");

    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).startsWith(String.join("\n", "-Xmx2g", "-XX:+UseSerialGC", "-Xmn32m", "-XX:SharedArchiveFile=" + archive,
        "-Xlog:cds=off", "-jar", jar.toString(), "--version", ""));

    Files.setLastModifiedTime(archive, FileTime.from(built.toInstant().minusSeconds(1)));
    r = run(tmp, Map.of(), home.resolve("bin/bncheck").toString(), "--version");

    assertThat(r.out()).as("an archive older than the jar").startsWith(DEFAULT_JAVA_OPTIONS + "-jar\n" + jar + "\n--version\n");
  }

  @Test
  void noJavaIsOneLineWithExitFour() throws Exception {
    Path missing = tmp.resolve("no-jdk");

    LauncherIT.Result r = run(tmp, Map.of("JAVA_HOME", missing.toString()), home.resolve("bin/bncheck").toString(),
        "check", "x.json");

    assertThat(r.exitCode()).isEqualTo(ExitCodes.INTERNAL_ERROR);
    assertThat(r.err()).isEqualTo("bncheck: no Java found (" + missing
        + "/bin/java); install a Java 17 runtime, or set JAVA_HOME to one\n");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void aFolderThatIsNeitherCheckoutNorArchiveIsRefused() throws Exception {
    Files.delete(home.resolve("lib"));

    LauncherIT.Result r = run(tmp, Map.of(), home.resolve("bin/bncheck").toString(), "check", "x.json");

    assertThat(r.exitCode()).isEqualTo(ExitCodes.INTERNAL_ERROR);
    assertThat(r.err()).startsWith("bncheck: " + home + " is neither a checkout");
  }

  @Test
  void windowsLauncherKeepsTheShellLaunchersDefaultsAndItsOwnRules() throws Exception {
    String cmd = Files.readString(ROOT.resolve("bin/bncheck.cmd"));
    String sh = Files.readString(ROOT.resolve("bin/bncheck"));
    String pom = Files.readString(ROOT.resolve("pom.xml"));

    assertThat(cmd.replace("\r\n", "")).as("CRLF line ends only, as cmd.exe needs for labels").doesNotContain("\n");
    Matcher mainClass = Pattern.compile("<mainClass>(.*)</mainClass>").matcher(pom);
    assertThat(mainClass.find()).isTrue();
    assertThat(cmd).contains("-cp \"%BNCHECK_ROOT%\\lib\\*\" " + mainClass.group(1) + " %*");
    assertThat(sh).contains("-cp \"$root/lib/*\" " + mainClass.group(1) + ")");
    assertThat(cmd).contains("-jar \"%BNCHECK_ROOT%\\target\\bncheck.jar\" %*");
    String build = " -B -q -Dmaven.test.skip=true -Dbncheck.dist.host.skip=true package";
    assertThat(sh).as("the jar only, not the archive").contains("\"$maven\"" + build);
    assertThat(cmd).contains("call \"%BNCHECK_MAVEN%\"" + build);
    assertThat(sh).contains("${BNCHECK_JAVA_OPTS:--Xmx2g -XX:+UseSerialGC -Xmn32m}").contains("TF_CPP_MIN_LOG_LEVEL:-2}")
        .contains("TF_ENABLE_ONEDNN_OPTS:-1}");
    assertThat(cmd).contains("if not defined BNCHECK_JAVA_OPTS set \"BNCHECK_JAVA_OPTS=-Xmx2g -XX:+UseSerialGC -Xmn32m\"")
        .contains("if not defined TF_CPP_MIN_LOG_LEVEL set \"TF_CPP_MIN_LOG_LEVEL=2\"")
        .contains("if not defined TF_ENABLE_ONEDNN_OPTS set \"TF_ENABLE_ONEDNN_OPTS=1\"")
        .contains("%JAVA_HOME%\\bin\\java.exe").contains("setlocal");

    List<String> lines = cmd.lines().toList();
    for (String line : lines) {
      Matcher jump = Pattern.compile("\\bgoto (\\w+)").matcher(line);
      while (jump.find()) {
        assertThat(lines).as("label of " + line).contains(":" + jump.group(1));
      }
      assertThat(line).as("a bare exit would close the user's console").doesNotMatch("(?i).*\\bexit (?!/b).*");
      assertThat(line).as("a parenthesised block breaks on paths with parentheses").doesNotMatch(".*\\($");
    }
  }
}
