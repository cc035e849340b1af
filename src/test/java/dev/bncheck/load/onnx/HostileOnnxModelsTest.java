package dev.bncheck.load.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.CodedOutputStream;
import dev.bncheck.cli.ExitCodes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Models nobody has vetted: each refusal is exit code 3 with one line on standard error naming
 * the file and the node, tensor or field, and no stack trace; nothing reaches ONNX Runtime.
 */
class HostileOnnxModelsTest {

  private static final Path HOSTILE = OnnxModelsTest.DIR.resolve("hostile");

  @TempDir
  Path temp;

  static Stream<Arguments> committed() {
    return Stream.of(
        Arguments.of("custom-domain.onnx", "node payload: operator Backdoor of domain 'com.example' is not a standard"
            + " ONNX operator"),
        Arguments.of("external-parent.onnx", "tensor mean: external data location '../outside.bin' holds a '..'"
            + " segment"),
        Arguments.of("external-absolute.onnx", "tensor mean: external data location '/etc/hostname' is absolute"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("committed")
  void refusedBeforeAnythingRuns(String file, String message) throws IOException {
    for (String command : new String[] {"inspect", "check"}) {
      String model = HOSTILE.resolve(file).toString();
      OnnxModelsTest.Run run = command.equals("check")
          ? OnnxModelsTest.run(command, model, "--synthetic", "4") : OnnxModelsTest.run(command, model);
      assertOneLineError(run, model + ": " + message);
    }
  }

  @Test
  void truncatedModelNamesTheFieldItEndsIn() throws IOException {
    byte[] whole = Files.readAllBytes(OnnxModelsTest.DIR.resolve("cnn-eval.onnx"));
    Path cut = temp.resolve("cut.onnx");
    Files.write(cut, Arrays.copyOf(whole, whole.length / 2));
    assertOneLineError(OnnxModelsTest.run("inspect", cut.toString()), cut + ": ModelProto.graph: the file ends inside"
        + " this field: truncated, or a length in it is wrong");
  }

  @Test
  void emptyFileIsNoModel() throws IOException {
    Path empty = Files.createFile(temp.resolve("empty.onnx"));
    assertOneLineError(OnnxModelsTest.run("inspect", empty.toString()), empty + ": ModelProto.graph: missing: not an"
        + " ONNX model");
  }

  @Test
  void symbolicLinkOutOfTheFolderIsRefused() throws IOException {
    Path folder = Files.createDirectory(temp.resolve("model"));
    Files.copy(OnnxModelsTest.DIR.resolve("cnn-external.onnx"), folder.resolve("cnn-external.onnx"));
    Path outside = Files.copy(OnnxModelsTest.DIR.resolve("cnn-external.onnx.data"), temp.resolve("elsewhere.data"));
    Files.createSymbolicLink(folder.resolve("cnn-external.onnx.data"), outside);
    Path model = folder.resolve("cnn-external.onnx");
    OnnxModelsTest.Run run = OnnxModelsTest.run("inspect", model.toString());
    assertOneLineError(run, model + ": tensor bn1.weight: external data location 'cnn-external.onnx.data' leads"
        + " outside the model's folder");
  }

  @Test
  void externalDataShorterThanItsTensorIsRefused() throws IOException {
    Path folder = Files.createDirectory(temp.resolve("short"));
    Files.copy(OnnxModelsTest.DIR.resolve("cnn-external.onnx"), folder.resolve("cnn-external.onnx"));
    Files.write(folder.resolve("cnn-external.onnx.data"), new byte[100]);
    Path model = folder.resolve("cnn-external.onnx");
    assertOneLineError(OnnxModelsTest.run("inspect", model.toString()), model + ": tensor bn1.weight: external data"
        + " cnn-external.onnx.data holds 100 bytes, fewer than its offset");
  }

  @Test
  void subgraphsNestedTooDeepAreRefusedWhileReading() throws IOException {
    Path deep = nestedIfs(40, "deep.onnx");
    OnnxModelsTest.Run run = OnnxModelsTest.run("inspect", deep.toString());
    assertThat(run.err()).contains("subgraphs (If, Loop, Scan) nested more than " + OnnxLimits.MAX_GRAPH_NESTING);
    assertOneLineError(run, deep + ": ModelProto.graph");
  }

  /** An outside tester's find: exactly 16 levels of subgraphs (which ONNX Runtime loads) were refused. */
  @Test
  void subgraphsNestedExactlyAsDeepAsTheLimitAreRead() throws IOException {
    assertThat(OnnxModelsTest.run("inspect", nestedIfs(OnnxLimits.MAX_GRAPH_NESTING, "limit.onnx").toString(),
        "--format", "json").err()).doesNotContain("nested more than");
    assertThat(OnnxModelsTest.run("inspect", nestedIfs(OnnxLimits.MAX_GRAPH_NESTING + 1, "over.onnx").toString(),
        "--format", "json").err()).contains("nested more than " + OnnxLimits.MAX_GRAPH_NESTING + " deep");
  }

  /** A model whose graph holds an If node whose branch holds an If node ... {@code levels} subgraphs deep. */
  private Path nestedIfs(int levels, String name) throws IOException {
    byte[] graph = message(out -> out.writeString(2, "innermost"));
    for (int depth = 0; depth < levels; depth++) {
      byte[] inner = graph;
      byte[] attribute = message(out -> {
        out.writeString(1, "then_branch");
        out.writeByteArray(6, inner);
      });
      byte[] node = message(out -> {
        out.writeString(4, "If");
        out.writeByteArray(5, attribute);
      });
      graph = message(out -> out.writeByteArray(1, node));
    }
    byte[] root = graph;
    Path model = temp.resolve(name);
    Files.write(model, message(out -> out.writeByteArray(7, root)));
    return model;
  }

  @Test
  void wrongInputNameAndShapeNameTheInput() throws IOException {
    String model = OnnxModelsTest.DIR.resolve("cnn-eval.onnx").toString();
    String data = OnnxModelsTest.DIR.resolve("calibration.npy").toString();
    assertOneLineError(OnnxModelsTest.run("check", model, "--inputs", "image=" + data),
        "--inputs: the model's inputs are x; give each as NAME=FILE");
    Path wrong = temp.resolve("wrong.npy");
    Files.write(wrong, dev.bncheck.TestFiles.npy(new float[2 * 3 * 9 * 8], 2, 3, 9, 8));
    assertOneLineError(OnnxModelsTest.run("check", model, "--inputs", wrong.toString()),
        "--inputs: x: data of shape [2, 3, 9, 8] does not fit the model's input of shape [?, 3, 8, 8]");
  }

  /** An outside tester's find: a BN of 0 channels ended in an internal error (an index out of bounds). */
  @Test
  void aBnOfZeroChannelsIsRefusedNamingTheNode() throws IOException {
    Path model = HOSTILE.resolve("zero-channels.onnx");
    assertOneLineError(OnnxModelsTest.run("inspect", model.toString()), model + ": node bn0:"
        + " input_mean holds no values: a BN of 0 channels");
  }

  /**
   * Outside testers' finds: an epsilon stored as an integer was read as absent (the default
   * 1e-5) while ONNX Runtime refuses the model, and of two epsilons the last was read.
   */
  @Test
  void anEpsilonOfTheWrongTypeOrGivenTwiceIsRefused() throws IOException {
    Path integer = HOSTILE.resolve("epsilon-int.onnx");
    assertOneLineError(OnnxModelsTest.run("inspect", integer.toString()), integer + ": node bn:"
        + " attribute epsilon is not a single float");
    Path twice = HOSTILE.resolve("epsilon-twice.onnx");
    OnnxModelsTest.Run run = OnnxModelsTest.run("inspect", twice.toString());
    assertOneLineError(run, twice + ": ModelProto.graph");
    assertThat(run.err()).contains("node bn gives attribute epsilon twice");
  }

  /**
   * An outside tester's find: a PyTorch export's momentum of NaN or infinity (converted as 1 - m
   * through a decimal) ended in an internal error; it is reported as BN009 says, as tf2onnx's is.
   */
  @Test
  void aPyTorchMomentumThatIsNotFiniteIsBn009() throws IOException {
    for (String name : new String[] {"momentum-nan-pytorch.onnx", "momentum-inf-pytorch.onnx"}) {
      OnnxModelsTest.Run run = OnnxModelsTest.run("inspect", HOSTILE.resolve(name).toString(), "--format", "json");
      assertThat(run.err()).as(name).isEmpty();
      assertThat(run.exitCode()).as(name).isEqualTo(ExitCodes.PASS);
      assertThat(run.report().get("findings").toString()).as(name).contains("BN009")
          .contains(name.contains("nan") ? "momentum NaN" : "momentum -Infinity");
    }
  }

  /** An outside tester's find: IR version 14 (onnx.helper's default) got ONNX Runtime's C++ message. */
  @Test
  void anIrVersionNewerThanTheRuntimeReadsIsRefusedWithTheFix() throws IOException {
    Path newer = HOSTILE.resolve("ir-version-14.onnx");
    String data = OnnxModelsTest.DIR.resolve("graphs").resolve("bn-2x4.npy").toString();
    assertOneLineError(OnnxModelsTest.run("check", newer.toString(), "--inputs", data, "--format", "json"),
        newer + ": ir_version: IR"
        + " version 14; the ONNX Runtime bncheck runs with reads IR versions up to 10: set model.ir_version = 10"
        + " before onnx.save");
    assertThat(OnnxModelsTest.run("inspect", newer.toString(), "--format", "json").exitCode())
        .isEqualTo(ExitCodes.PASS);
  }

  /**
   * An outside tester's find: the numbers of these messages overflowed (a tensor of 4e9 values
   * "of -4 bytes"; an offset of 2^62 "plus length -4611686018427387896").
   */
  @Test
  void externalDataBeyondAnyArrayOrItsFileIsNamedWithTheNumbersGiven() throws IOException {
    Path huge = HOSTILE.resolve("external-huge-dims.onnx");
    assertOneLineError(OnnxModelsTest.run("inspect", huge.toString(), "--format", "json"), huge + ": tensor mean:"
        + " dimensions [4000000000] give no size bncheck reads into one array");
    Path beyond = HOSTILE.resolve("external-offset-beyond.onnx");
    assertOneLineError(OnnxModelsTest.run("inspect", beyond.toString(), "--format", "json"), beyond + ": tensor mean:"
        + " external data side.bin holds 8 bytes, fewer than its offset 4611686018427387904");
  }

  /** An outside tester's find: opset 23 got ONNX Runtime's message about its own C++ source. */
  @Test
  void anOpsetNewerThanTheRuntimeRunsIsRefusedWithTheFix() throws IOException {
    Path graphs = OnnxModelsTest.DIR.resolve("graphs");
    String data = graphs.resolve("bn-2x4.npy").toString();
    Path newer = graphs.resolve("opset-23.onnx");
    OnnxModelsTest.Run run = OnnxModelsTest.run("check", newer.toString(), "--inputs", data, "--format", "json");
    assertOneLineError(run, newer + ": opset_import: opset 23; the ONNX Runtime bncheck runs with runs opsets up to"
        + " 22: export with opset_version=22");
    assertThat(OnnxModelsTest.run("inspect", newer.toString(), "--format", "json").exitCode())
        .isEqualTo(ExitCodes.PASS);
    OnnxModelsTest.Run newest = OnnxModelsTest.run("check", graphs.resolve("opset-22.onnx").toString(), "--inputs",
        data, "--format", "json");
    assertThat(newest.err()).isEmpty();
    assertThat(newest.exitCode()).isIn(ExitCodes.PASS, ExitCodes.FINDINGS);
  }

  /**
   * An outside tester's find: refusals named the wrong reason (a NUL byte was "absolute", a
   * folder was "a symbolic link"). The location of external-parent.onnx is replaced by one of the
   * same length, so that the protobuf stays whole.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "a\u0000/outside.bin | tensor mean: external data location 'a?/outside.bin' holds a NUL byte",
      "x/../model.bin | tensor mean: external data location 'x/../model.bin' holds a '..' segment",
      "adirectoryname | tensor mean: external data location 'adirectoryname' is a folder"})
  void externalDataRefusalsNameTheirReason(String location, String message) throws IOException {
    byte[] bytes = Files.readAllBytes(HOSTILE.resolve("external-parent.onnx"));
    byte[] from = "../outside.bin".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    byte[] to = location.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(to).hasSameSizeAs(from);
    int at = indexOf(bytes, from);
    System.arraycopy(to, 0, bytes, at, to.length);
    Files.createDirectory(temp.resolve("adirectoryname"));
    Path model = Files.write(temp.resolve("model.onnx"), bytes);
    assertOneLineError(OnnxModelsTest.run("inspect", model.toString()), model + ": " + message);
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (java.util.Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
        return i;
      }
    }
    throw new AssertionError("not found");
  }

  /**
   * A model with its graph field given twice: protobuf would merge the two, and bncheck and the
   * runtime could each read another graph. Refused when the copy for the runtime is built.
   */
  @Test
  void aModelWithTwoGraphsIsRefused() throws IOException {
    byte[] bytes = Files.readAllBytes(OnnxModelsTest.DIR.resolve("cnn-eval.onnx"));
    com.google.protobuf.CodedInputStream in = com.google.protobuf.CodedInputStream.newInstance(bytes);
    byte[] graph = null;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag == ((7 << 3) | 2)) {
        graph = in.readByteArray();
      } else {
        in.skipField(tag);
      }
    }
    byte[] second = graph;
    byte[] appended = message(out -> out.writeByteArray(7, second));
    byte[] twice = java.util.Arrays.copyOf(bytes, bytes.length + appended.length);
    System.arraycopy(appended, 0, twice, bytes.length, appended.length);
    Path model = Files.write(temp.resolve("two-graphs.onnx"), twice);
    assertOneLineError(OnnxModelsTest.run("check", model.toString(), "--inputs",
        OnnxModelsTest.DIR.resolve("calibration.npy").toString(), "--format", "json"),
        model + ": ModelProto.graph: the model holds more than one graph");
    // inspect had read the last graph field alone (an outside tester's model split one graph in two)
    assertOneLineError(OnnxModelsTest.run("inspect", model.toString(), "--format", "json"),
        model + ": ModelProto.graph: the model holds more than one graph field; save it again as one");
  }

  private static void assertOneLineError(OnnxModelsTest.Run run, String start) {
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.INVALID_INPUT);
    assertThat(run.err()).startsWith("bncheck: error: " + start);
    assertThat(run.err().lines().count()).as(run.err()).isEqualTo(1);
    assertThat(run.report()).isNull();
  }

  private interface Writer {
    void write(CodedOutputStream out) throws IOException;
  }

  private static byte[] message(Writer writer) throws IOException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(buffer);
    writer.write(out);
    out.flush();
    return buffer.toByteArray();
  }
}
