package dev.bncheck.load.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bncheck.load.LoadOptions;
import dev.bncheck.model.BnLayer;
import dev.bncheck.model.BnModel;
import dev.bncheck.model.CalibrationSink;
import dev.bncheck.model.GraphFacts;
import dev.bncheck.model.MomentumConvention;
import dev.bncheck.model.UnresolvedLayer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The BatchNormalization forms PyTorch 2 does not export, in one-node graphs written with
 * onnx.helper (scripts/make_onnx_models.py, graphs()): the values asserted are those the script
 * writes.
 */
class OnnxGraphsTest {

  private static final Path GRAPHS = OnnxModelsTest.DIR.resolve("graphs");

  private static BnModel inspect(String name) {
    return new BnModelFromOnnx().load(GRAPHS.resolve(name + ".onnx"), CalibrationSink.NONE);
  }

  @Test
  void parametersComeFromConstantNodes() {
    BnLayer layer = inspect("constants-opset9").layers().get(0);
    assertThat(layer.gamma()).containsExactly(0.5, 2.0);
    assertThat(layer.beta()).containsExactly(0.25, -1.0);
    assertThat(layer.movingMean()).containsExactly(1.5, -3.0);
    assertThat(layer.movingVariance()).containsExactly(4.0, 0.0625);
    assertThat(layer.epsilon()).isEqualTo(1e-3);
    assertThat(layer.momentum()).as("no momentum attribute: unknown").isEmpty();
    assertThat(layer.graph().map(GraphFacts::trainingMode)).contains(false);
  }

  @Test
  void moreOutputsThanYMeanTrainingModeBeforeOpset14() {
    BnLayer layer = inspect("constants-opset9-training").layers().get(0);
    assertThat(layer.graph().map(GraphFacts::trainingModeNodes)).contains(List.of("bn"));
    // a producer other than PyTorch keeps ONNX's own convention
    assertThat(layer.momentum().getAsDouble()).isEqualTo(0.99);
    assertThat(layer.momentumConvention()).isEqualTo(MomentumConvention.KERAS);
  }

  /** A decomposed BN's NaN epsilon was refused while a BatchNormalization node's was taken as it was. */
  /**
   * PyTorch exports momentum=None (a cumulative average) as 1.0, as it exports momentum=0: such a
   * model got BN009 on every layer ("keeps the whole old average: the statistics can never change").
   */
  @Test
  void aPyTorchMomentumOfOneIsNotRecorded() throws java.io.IOException {
    BnLayer layer = inspect("momentum-none").layers().get(0);
    assertThat(layer.momentum()).isEmpty();
    OnnxModelsTest.Run run = OnnxModelsTest.run("inspect", GRAPHS.resolve("momentum-none.onnx").toString(),
        "--format", "json");
    assertThat(run.report().get("findings").toString()).doesNotContain("BN009");
    assertThat(run.exitCode()).isZero();
  }

  @Test
  void aNanEpsilonIsAnInputErrorNamingTheNode() {
    Path file = GRAPHS.resolve("nan-epsilon.onnx");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> inspect("nan-epsilon"))
        .isInstanceOf(dev.bncheck.load.InvalidInputException.class)
        .hasMessage(file + ": node bn: epsilon NaN is not a finite, non-negative number");
  }

  @Test
  void statisticsPerActivationAreUnresolved() {
    BnModel model = inspect("spatial0-opset7");
    assertThat(model.layers()).isEmpty();
    assertThat(model.unresolved()).extracting(UnresolvedLayer::node, UnresolvedLayer::reason)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("bn", "spatial=0: statistics per activation rather than"
            + " per channel, which bncheck's checks do not cover"));
  }

  @Test
  void bnInsideAnIfBranchIsListedNotDropped() {
    BnModel model = inspect("bn-in-if-branch");
    assertThat(model.layers()).isEmpty();
    assertThat(model.unresolved()).extracting(UnresolvedLayer::node).containsExactly("inner");
    assertThat(model.unresolved().get(0).reason()).startsWith("inside the subgraph of If node branch");
  }

  @Test
  void nodesSharingStatisticsAreOneLayerFedByBoth() {
    BnModel model = inspect("shared-statistics");
    assertThat(model.layers()).hasSize(1);
    assertThat(model.layers().get(0).graph().map(GraphFacts::nodes)).contains(List.of("first", "second"));
    assertThat(model.layers().get(0).origin()).isEqualTo("node first (its statistics also serve second)");

    RecordingSink sink = new RecordingSink();
    new BnModelFromOnnx().load(GRAPHS.resolve("shared-statistics.onnx"),
        new LoadOptions("serve", "serving_default", List.of(), 32, Long.MAX_VALUE, 8), sink);
    // one batch of 8 synthetic samples reaches the layer through each node
    assertThat(sink.batches).extracting(t -> t.shape()[0]).containsExactly(8, 8);
    assertThat(sink.frameworkOutputs).hasSize(2);
  }
}
