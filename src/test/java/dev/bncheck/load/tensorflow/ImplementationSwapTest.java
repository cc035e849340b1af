package dev.bncheck.load.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.bncheck.TestFiles;
import dev.bncheck.cli.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.NodeDef;

/**
 * Grappler's implementation selector runs, in place of a called function, another library
 * function that declares the same {@code api_implements}: the attack is in a function nothing
 * names (fixtures from scripts/make_hostile_implementation_swap.py, found by a red-team run).
 */
class ImplementationSwapTest {

  private static final Path FIXTURES = Path.of("src/test/resources/hostile/implementation-swap");

  @TempDir Path dir;

  /** The write fixture, copied, with its marker path pointed at {@code marker}. */
  private Path writer(Path marker) throws IOException {
    Path model = dir.resolve("model");
    TestFiles.copyTree(FIXTURES.resolve("write"), model);
    HostileModelsTest.edit(model, meta -> {
      for (FunctionDef.Builder f : meta.getGraphDefBuilder().getLibraryBuilder().getFunctionBuilderList()) {
        for (NodeDef.Builder n : f.getNodeDefBuilderList()) {
          var value = n.getAttrMap().get("value");
          if (n.getOp().equals("Const") && value != null && value.getTensor().getStringValCount() == 1
              && value.getTensor().getStringVal(0).toStringUtf8().equals("BNCHECK_MARKER")) {
            n.putAttr("value", value.toBuilder().setTensor(value.getTensor().toBuilder()
                .setStringVal(0, ByteString.copyFromUtf8(marker.toString()))).build());
          }
        }
      }
      return meta;
    });
    return model;
  }

  @Test
  void theSwapIsRealWhenTrusted() throws IOException {
    Path marker = dir.resolve("marker");
    CliRun run = CliRun.of("inspect", writer(marker).toString(), "--trust-model");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(marker).as("TensorFlow ran the function no node calls").hasContent("written by the model");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"inspect", "check --synthetic 4", "recalibrate --inputs INPUTS --out OUT"})
  void functionSwappedInForACalledOneIsCheckedByEveryCommand(String command) throws IOException {
    Path marker = dir.resolve("marker");
    Path model = writer(marker);
    Path inputs = dir.resolve("inputs.npy");
    Files.write(inputs, TestFiles.randomNpy(8, 1, 1, 4));
    List<String> args = new java.util.ArrayList<>(List.of(command.replace("INPUTS", inputs.toString())
        .replace("OUT", dir.resolve("out").toString()).split(" ")));
    args.add(1, model.toString());
    CliRun run = CliRun.of(args.toArray(new String[0]));
    assertThat(marker).doesNotExist();
    assertThat(run.exitCode()).as(run.err()).isEqualTo(3);
    assertThat(run.err().strip()).doesNotContain("\n").contains("refused before running anything")
        .contains("in the init op that loading runs, WriteFile: it writes files").contains("__inference_bad_");
  }

  @Test
  void fileReadBySwappedFunctionNeverReachesTheMessage() throws IOException {
    String hostname = Files.exists(Path.of("/etc/hostname")) ? Files.readString(Path.of("/etc/hostname")).strip() : "";
    CliRun run = CliRun.of("inspect", FIXTURES.resolve("read").toString());
    assertThat(run.exitCode()).as(run.err()).isEqualTo(3);
    assertThat(run.err()).contains("ReadFile: it reads files").doesNotContain("assertion failed");
    if (!hostname.isEmpty()) {
      assertThat(run.err()).doesNotContain("[" + hostname);
    }
  }
}
