package dev.bncheck.load.tensorflow;

import dev.bncheck.cli.CliRun;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/**
 * Models exported by Python TensorFlow whose graphs run recurrent loops (Keras 3 LSTM and GRU
 * over TensorList ops in While loops; a TF1 TensorArrayV3 loop) load, run and get a verdict
 * under the op check, without --trust-model (fixtures from scripts/make_keras_rnn_bn.py).
 */
class RecurrentModelsTest {

  private static final Path DIR = Path.of("src/test/resources/rnn-bn");

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "keras-lstm, 'While,TensorListReserve,TensorListSetItem,TensorListStack', bn_in, 2",
      "tf1-tensorarray, 'TensorArrayV3,TensorArrayReadV3,TensorArrayWriteV3,TensorArrayGatherV3,Enter', bn, 1"})
  void recurrentModelPassesInspectAndCheckUnderTheOpCheck(String name, String loopOps, String firstLayer, int layers)
      throws IOException {
    Path model = DIR.resolve(name);
    assertThat(opsOf(model)).as("the fixture still holds the loop ops it covers").contains(loopOps.split(","));
    CliRun inspect = CliRun.of("inspect", model.toString(), "--format", "json");
    assertThat(inspect.exitCode()).as(inspect.err()).isZero();
    assertThat(inspect.out().split("\"index\":", -1)).as("layers").hasSize(layers + 1);
    assertThat(inspect.out()).contains("\"name\": \"" + firstLayer);
    CliRun check = CliRun.of("check", model.toString(), "--inputs", DIR.resolve("data.npy").toString());
    assertThat(check.exitCode()).as(check.err()).isZero();
    assertThat(check.out()).contains("PASS");
  }

  private static Set<String> opsOf(Path model) throws IOException {
    MetaGraphDef meta = SavedModel.parseFrom(Files.readAllBytes(model.resolve("saved_model.pb"))).getMetaGraphs(0);
    Set<String> ops = new HashSet<>();
    meta.getGraphDef().getNodeList().forEach(n -> ops.add(n.getOp()));
    for (FunctionDef f : meta.getGraphDef().getLibrary().getFunctionList()) {
      f.getNodeDefList().stream().map(NodeDef::getOp).forEach(ops::add);
    }
    return ops;
  }
}
