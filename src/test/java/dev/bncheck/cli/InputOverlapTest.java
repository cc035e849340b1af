package dev.bncheck.cli;

import dev.bncheck.TestFiles;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * No output may be, contain or lie inside an input, however its path is spelled: with
 * {@code --force}, recalibrate would otherwise delete the model's directory or the data beside
 * it, or write into the model.
 */
class InputOverlapTest {

  @TempDir Path dir;

  Path work;
  Path model;
  Path inputs;
  Path labels;

  @BeforeEach
  void layOutAProject() throws IOException {
    work = Files.createDirectories(dir.resolve("work"));
    model = work.resolve("model");
    TestFiles.copyTree(Path.of("samples/keras-cnn-untrained"), model);
    Path data = Files.createDirectories(dir.resolve("data"));
    inputs = Files.copy(Path.of("samples/keras-cnn-inputs.npy"), data.resolve("inputs.npy"));
    labels = Files.copy(Path.of("samples/keras-cnn-labels.npy"), data.resolve("labels.npy"));
    Files.createSymbolicLink(dir.resolve("link-to-work"), work);
    Files.createSymbolicLink(dir.resolve("link-to-model"), model);
  }

  /** Every entry below {@code dir} with its content or link target. */
  private Map<String, String> snapshot() throws IOException {
    Map<String, String> entries = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.toList()) {
        entries.put(dir.relativize(p).toString(), Files.isSymbolicLink(p) ? "-> " + Files.readSymbolicLink(p)
            : Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "dir" : Integer.toString(Arrays.hashCode(Files.readAllBytes(p))));
      }
    }
    return entries;
  }

  private CliRun recalibrate(String out, String... extra) {
    List<String> args = new ArrayList<>(List.of("recalibrate", model.toString(), "--inputs", inputs.toString(),
        "--labels", labels.toString(), "--out", out, "--force"));
    args.addAll(List.of(extra));
    return CliRun.of(args.toArray(String[]::new));
  }

  @ParameterizedTest(name = "--out {0}")
  @CsvSource(delimiter = '|', value = {
      "work/model                               | is an input of this run",
      "work                                     | contains the input MODEL",
      "work/model/assets                        | lies inside the input MODEL",
      "work/model/variables                     | lies inside the input MODEL",
      "link-to-work/model                       | is an input of this run",
      "link-to-model                            | is an input of this run",
      "link-to-model/fixed                      | lies inside the input MODEL",
      "link-to-model/../model                   | is an input of this run",
      "work/model/variables/../../model         | is an input of this run",
      "work/missing/../model                    | is an input of this run",
      "work/./model/../../work                  | contains the input MODEL",
      "data                                     | contains the input INPUTS",
      "data/labels.npy                          | is an input of this run",
      ".                                        | contains the input MODEL",
  })
  void recalibrateRefusesAnOutputThatMeetsAnInputAndLeavesEverythingAsItWas(String out, String relation)
      throws IOException {
    Map<String, String> before = snapshot();
    String spelled = dir + "/" + out;
    CliRun run = recalibrate(spelled);
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: --out " + Path.of(spelled) + " "
        + relation.replace("MODEL", model.toString()).replace("INPUTS", inputs.toString())
        + "; bncheck never overwrites its inputs");
    assertThat(snapshot()).isEqualTo(before);
  }

  @Test
  void aLinkAsOutputThatReachesTheLabelsIsRefused() throws IOException {
    Path link = Files.createSymbolicLink(dir.resolve("fixed"), labels);
    Map<String, String> before = snapshot();
    CliRun run = recalibrate(link.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: --out " + link + " is an input of this run");
    assertThat(snapshot()).isEqualTo(before);
  }

  @Test
  void anInputNamedWithItsInputNameCountsToo() throws IOException {
    Map<String, String> before = snapshot();
    CliRun run = CliRun.of("recalibrate", model.toString(), "--inputs", "input_1=" + inputs, "--out",
        dir.resolve("data").toString(), "--force");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: --out " + dir.resolve("data") + " contains the input " + inputs);
    assertThat(snapshot()).isEqualTo(before);
  }

  @Test
  void theConfigFileIsAnInputToo() throws IOException {
    Path config = Files.writeString(Files.createDirectories(dir.resolve("settings")).resolve("bncheck.json"), "{}");
    Map<String, String> before = snapshot();
    CliRun run = CliRun.of("check", "samples/healthy.json", "--config", config.toString(), "--output",
        dir.resolve("link-to-work/../settings/bncheck.json").toString());
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: --output " + dir.resolve("link-to-work/../settings/bncheck.json")
        + " is an input of this run");
    assertThat(snapshot()).isEqualTo(before);
  }

  @Test
  void aDumpCannotBeRecalibratedOntoItselfThroughALink() throws IOException {
    Path dump = Files.copy(Path.of("samples/healthy.json"), dir.resolve("dump.json"));
    Path link = Files.createSymbolicLink(dir.resolve("fixed.json"), dump);
    Map<String, String> before = snapshot();
    CliRun run = CliRun.of("recalibrate", dump.toString(), "--out", link.toString(), "--force");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: --out " + link + " is an input of this run");
    assertThat(snapshot()).isEqualTo(before);
  }

  @Test
  void aReportInsideTheModelIsRefused() throws IOException {
    Map<String, String> before = snapshot();
    Path index = dir.resolve("link-to-model/variables/variables.index");
    CliRun run = CliRun.of("inspect", model.toString(), "--output", index.toString());
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).startsWith("bncheck: error: --output " + index + " lies inside the input " + model
        + "; bncheck never overwrites its inputs");
    assertThat(snapshot()).isEqualTo(before);
  }

  @Test
  void anOutputBesideTheInputsIsWritten() {
    CliRun run = recalibrate(dir.resolve("link-to-work/fixed").toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(work.resolve("fixed/saved_model.pb")).exists();
  }

  /**
   * An outside tester's find: the side file an ONNX model keeps its weights in was replaced by a
   * report (and the next inspect read the report as weights and passed).
   */
  @ParameterizedTest(name = "{arguments}")
  @CsvSource({"inspect, --output", "check, --report=junit=", "recalibrate, --out"})
  void theExternalDataOfAnOnnxModelIsAnInputToo(String command, String option) throws IOException {
    Path folder = Files.createDirectory(dir.resolve("onnx"));
    Path model = Files.copy(Path.of("src/test/resources/onnx/cnn-external.onnx"), folder.resolve("cnn-external.onnx"));
    Path data = Files.copy(Path.of("src/test/resources/onnx/cnn-external.onnx.data"),
        folder.resolve("cnn-external.onnx.data"));
    byte[] weights = Files.readAllBytes(data);
    List<String> args = new ArrayList<>(List.of(command, model.toString()));
    if (!command.equals("inspect")) {
      args.addAll(List.of("--inputs", "src/test/resources/onnx/calibration.npy"));
    }
    args.addAll(option.endsWith("=") ? List.of(option + data) : List.of(option, data.toString()));
    args.add("--force");
    CliRun run = CliRun.of(args.stream().filter(a -> !a.equals("--force") || command.equals("recalibrate"))
        .toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).contains(data + " is an input of this run; bncheck never overwrites its inputs");
    assertThat(Files.readAllBytes(data)).isEqualTo(weights);
  }

  /**
   * An outside tester's find: recalibrate into a folder that does not exist ran the whole
   * recalibration, then ended as an internal error; reports into one failed after the run.
   */
  @ParameterizedTest(name = "{arguments}")
  @CsvSource({"inspect, --output", "check, --report=json=", "recalibrate, --out"})
  void anOutputInAMissingFolderIsAUsageErrorBeforeAnyWork(String command, String option) {
    Path missing = dir.resolve("no/such/folder/out");
    List<String> args = new ArrayList<>(List.of(command, "src/test/resources/onnx/cnn-eval.onnx"));
    if (!command.equals("inspect")) {
      args.addAll(List.of("--inputs", "src/test/resources/onnx/calibration.npy"));
    }
    args.addAll(option.endsWith("=") ? List.of(option + missing) : List.of(option, missing.toString()));
    CliRun run = CliRun.of(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err()).contains("the folder " + missing.getParent() + " does not exist");
    assertThat(run.out()).isEmpty();
    assertThat(dir.resolve("no")).doesNotExist();
  }
}
